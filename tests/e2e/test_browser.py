"""The course as a student meets it: real JupyterLab, real (headless) Chromium.

Every notebook is opened in JupyterLab, run with the menu's Run -> Run All Cells in fast mode
(``A3C_FAST=1``), and checked for error outputs and for widgets that failed to render. Notebook 02's
γ slider must redraw the value heatmap; notebook 06's Train button must start worker processes and
a live plot, and Stop must end training quickly while the kernel stays responsive. A screenshot of
each notebook is saved to ``tests/artifacts/screenshots/``.

Run: ``python3 -m pytest tests/e2e -q`` (see tests/e2e/README.md).
"""

from __future__ import annotations

import re
import time

import psutil
import pytest

from .conftest import ARTIFACTS, NOTEBOOK_DIR, SCREENSHOTS

pytestmark = pytest.mark.e2e

NOTEBOOKS = sorted(
    p.relative_to(NOTEBOOK_DIR).as_posix()
    for p in NOTEBOOK_DIR.rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
# Notebooks with a dedicated test below (which also applies every generic check to them, so
# each notebook runs only once per session): 02 (γ slider) and 06 (training dashboard).
DEDICATED = ("02_", "06_")
RUN_ALL_SECONDS = 180.0  # per notebook, fast mode
KERNEL_START_SECONDS = 90.0
WIDGET_RENDER_SECONDS = 20.0
STOP_SECONDS = 5.0  # Stop must end training (workers exit, status says stopped) within this
# multiprocessing's long-lived helper processes: not workers, they outlive a training run.
MP_HELPERS = ("resource_tracker", "forkserver")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The notebook panel being shown (one notebook tab per test).
PANEL = "window.jupyterapp.shell.currentWidget"

JS_KERNEL_IDLE = f"""() => {{
  const w = window.jupyterapp && {PANEL};
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && w.context && w.context.isReady && w.content);
}}"""

JS_BUSY = f"""() => {{
  const w = {PANEL};
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const prompts = [...w.content.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  return {{
    status: k ? k.status : 'no kernel',
    running: prompts.filter(p => p.textContent.includes('*')).length,
  }};
}}"""

# Every code cell: execution count, outputs (from the notebook model) and rendered output nodes.
JS_CELLS = f"""() => {{
  const w = {PANEL};
  const cells = [];
  w.content.widgets.forEach((cell, index) => {{
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON().map(o => ({{
      type: o.output_type,
      name: o.name || null,
      text: Array.isArray(o.text) ? o.text.join('') : (o.text || ''),
      ename: o.ename || null,
      evalue: o.evalue || null,
      traceback: (o.traceback || []).join('\\n'),
      widget: !!(o.data && o.data['application/vnd.jupyter.widget-view+json']),
    }}));
    const nodes = cell.outputArea.widgets.map(ow => ({{
      text: ow.node.textContent.slice(0, 500),
      live: !!ow.node.querySelector('.jupyter-widgets'),
    }}));
    const source = cell.model.sharedModel.getSource();
    cells.push({{index, count: cell.model.executionCount, source, outputs, nodes}});
  }});
  return cells;
}}"""

# Slider descriptions a notebook must show when its code calls these a3c_lib factories
# (the widget conventions of HELPERS.md: sliders are labelled with the lesson's symbol).
EXPECTED_SLIDERS = {
    "gamma_slider(": ["γ"],
    "lr_slider(": ["learning rate"],
    "samples_slider(": ["samples n"],
    "TrainingDashboard(": ["γ", "learning rate", "workers"],
}

JS_KERNEL_ID = f"() => {PANEL}.sessionContext.session.kernel.id"


# ----------------------------------------------------------------------------- helpers


def find_notebook(prefix: str) -> str:
    """The notebook whose file name starts with ``prefix`` (e.g. "02"); fails if absent."""
    matches = [n for n in NOTEBOOKS if n.split("/")[-1].startswith(prefix) and "/" not in n]
    if not matches:
        pytest.fail(f"notebook {prefix} not found in {NOTEBOOK_DIR} (have: {NOTEBOOKS})")
    return matches[0]


def open_notebook(page, lab_server, notebook: str) -> None:
    """Opens ``notebook`` in JupyterLab and waits until its kernel is idle."""
    page.goto(lab_server.lab_url(notebook))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=KERNEL_START_SECONDS * 1000)
    try:
        page.wait_for_function(JS_KERNEL_IDLE, timeout=KERNEL_START_SECONDS * 1000)
    except Exception as error:  # playwright TimeoutError
        shoot(page, notebook, suffix="-kernel-timeout")
        pytest.fail(
            f"{notebook}: the kernel did not become idle within {KERNEL_START_SECONDS:.0f} s "
            f"({error}).\nServer log:\n{lab_server.log_tail()}"
        )


def run_all_cells(page, notebook: str) -> float:
    """Clicks Run -> Run All Cells and waits until no cell is running; returns seconds taken."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    start = time.monotonic()
    quiet_since = None
    state = {}
    while time.monotonic() - start < RUN_ALL_SECONDS:
        state = page.evaluate(JS_BUSY)
        if state["status"] == "idle" and state["running"] == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 1.0:  # idle and stays idle: done
                return time.monotonic() - start
        else:
            quiet_since = None
        time.sleep(0.25)
    shoot(page, notebook, suffix="-timeout")
    pytest.fail(
        f"{notebook}: Run All Cells did not finish within {RUN_ALL_SECONDS:.0f} s in fast mode "
        f"(kernel {state.get('status')}, {state.get('running')} cells still marked [*])"
    )


def cell_errors(cells: list[dict]) -> list[str]:
    """Error outputs, stderr tracebacks and cells that never ran (a failure stopped Run All)."""
    problems = []
    for cell in cells:
        where = f"cell {cell['index']}"
        for out in cell["outputs"]:
            if out["type"] == "error":
                tail = "\n".join(ANSI.sub("", out["traceback"]).splitlines()[-6:])
                problems.append(f"{where}: {out['ename']}: {out['evalue']}\n{tail}")
            elif out["type"] == "stream" and out["name"] == "stderr":
                text = ANSI.sub("", out["text"])
                if "Traceback" in text or "Error" in text:
                    problems.append(f"{where} stderr: {text[-800:]}")
        if cell["count"] is None and cell["source"].strip():
            problems.append(f"{where} was not executed (source: {cell['source'][:80]!r})")
    return problems


def widget_problems(cells: list[dict]) -> list[str]:
    """Widget outputs that did not become live widgets (still loading, or an error shown)."""
    problems = []
    for cell in cells:
        expected = sum(out["widget"] for out in cell["outputs"])
        live = sum(node["live"] for node in cell["nodes"])
        for node in cell["nodes"]:
            for bad in ("Error displaying widget", "Loading widget", "Failed to load model"):
                if bad in node["text"]:
                    problems.append(f"cell {cell['index']}: {bad}: {node['text'][:200]!r}")
        if live < expected:
            problems.append(
                f"cell {cell['index']}: {expected} widget output(s) but {live} rendered as widgets"
            )
    return problems


def wait_for_widgets(page) -> list[dict]:
    """Waits (bounded) until every widget output rendered; returns the final cell report."""
    deadline = time.monotonic() + WIDGET_RENDER_SECONDS
    cells = page.evaluate(JS_CELLS)
    while widget_problems(cells) and time.monotonic() < deadline:
        time.sleep(0.5)
        cells = page.evaluate(JS_CELLS)
    return cells


def shoot(page, notebook: str, suffix: str = "", element=None) -> None:
    """Saves a screenshot of ``element`` if given, else of the whole notebook.

    For the whole notebook the viewport is stretched to the notebook's height (capped).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = notebook.replace("/", "__").removesuffix(".ipynb")
    target = SCREENSHOTS / f"{name}{suffix}.png"
    if element is not None:
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(target))
        return
    size = page.viewport_size
    try:
        page.evaluate("() => window.jupyterapp && window.jupyterapp.shell.collapseLeft()")
        height = page.evaluate(
            """() => {
              const s = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
              if (!s) return 0;
              s.scrollTop = 0;  // the whole notebook from its title down
              return s.scrollHeight;
            }"""
        )
        tall = min(max(height + 160, size["height"]), 16000)
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(500)
        page.screenshot(path=str(target), full_page=True)
    finally:
        page.set_viewport_size(size)


def open_and_run(page, lab_server, notebook: str) -> tuple[list[dict], float]:
    """Opens and runs a notebook; returns the cell report and the run time in seconds.

    The phases' durations go to tests/artifacts/e2e_seconds.txt (open = JupyterLab loaded and
    kernel idle, run = Run All Cells, widgets = until every widget rendered).
    """
    t0 = time.monotonic()
    open_notebook(page, lab_server, notebook)
    t1 = time.monotonic()
    seconds = run_all_cells(page, notebook)
    t2 = time.monotonic()
    cells = wait_for_widgets(page)
    t3 = time.monotonic()
    with (ARTIFACTS / "e2e_seconds.txt").open("a") as log:
        log.write(f"{notebook}\topen {t1 - t0:.1f}\trun {t2 - t1:.1f}\twidgets {t3 - t2:.1f}\n")
    return cells, seconds


def kernel_process(page, lab_server) -> psutil.Process:
    """The ipykernel process behind the notebook open in ``page``."""
    kernel_id = page.evaluate(JS_KERNEL_ID)
    server = psutil.Process(lab_server.process.pid)
    for proc in server.children(recursive=True):
        try:
            if any(kernel_id in part for part in proc.cmdline()):
                return proc
        except psutil.NoSuchProcess:
            continue
    pytest.fail(f"no process found for kernel {kernel_id}")


def wait_until(predicate, seconds: float, interval: float = 0.2):
    """Polls ``predicate`` until it returns a truthy value or ``seconds`` pass; returns it."""
    deadline = time.monotonic() + seconds
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def check_clean(page, notebook: str, cells: list[dict], seconds: float) -> None:
    """No error output, every cell ran, every widget rendered, the expected sliders work."""
    errors = cell_errors(cells)
    if errors:
        pytest.fail(f"{notebook} ({seconds:.0f} s):\n" + "\n\n".join(errors))
    widgets = widget_problems(cells)
    if widgets:
        pytest.fail(f"{notebook}: widgets did not render:\n" + "\n".join(widgets))
    # Every slider drawn on the page is a working slider: a labelled, visible handle.
    sliders = page.locator(".jp-Notebook .widget-slider")
    labels = []
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        label = (slider.locator(".widget-label").first.text_content() or "").strip()
        handle = slider.locator(".noUi-handle").first
        assert handle.count() and handle.is_visible(), (
            f"{notebook}: slider {label or i!r} has no visible handle"
        )
        assert handle.get_attribute("aria-valuenow") is not None, (
            f"{notebook}: slider {label!r} shows no value"
        )
        assert label, f"{notebook}: slider {i} has no description"
        labels.append(label)
    source = "\n".join(cell["source"] for cell in cells)
    expected = sorted({name for call, names in EXPECTED_SLIDERS.items() if call in source
                       for name in names})
    missing = [name for name in expected if name not in labels]
    assert not missing, (
        f"{notebook}: its code builds slider(s) {missing} but the page shows only {labels}"
    )


def run_checked(page, lab_server, notebook: str) -> None:
    """Opens, runs all cells, saves the screenshot and applies :func:`check_clean`."""
    cells, seconds = open_and_run(page, lab_server, notebook)
    shoot(page, notebook)
    check_clean(page, notebook, cells, seconds)


# ----------------------------------------------------------------------------- tests


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if not n.startswith(DEDICATED)])
def test_notebook_runs_cleanly_in_jupyterlab(page, lab_server, notebook):
    """Run All Cells in fast mode: no error output, every cell ran, every widget rendered."""
    run_checked(page, lab_server, notebook)


def test_gamma_slider_redraws_value_heatmap(page, lab_server):
    """Notebook 02: moving the γ slider changes the drawn value heatmap."""
    notebook = find_notebook("02")
    run_checked(page, lab_server, notebook)  # the checks every notebook gets, then:

    gamma = page.locator(".jp-Notebook .widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(r"^\s*γ\s*$"))
    )
    assert gamma.count() >= 1, f"{notebook}: no slider with description 'γ' is shown"
    gamma = gamma.first
    heatmap = page.locator(
        ".jp-Notebook img.a3c-value-heatmap, .jp-Notebook .a3c-value-heatmap img"
    )
    assert heatmap.count() >= 1, f"{notebook}: no image with class 'a3c-value-heatmap' is shown"
    heatmap = heatmap.first
    heatmap.scroll_into_view_if_needed()
    before = heatmap.get_attribute("src")
    handle = gamma.locator(".noUi-handle").first
    value_before = handle.get_attribute("aria-valuenow")
    at_max = float(value_before) >= float(handle.get_attribute("aria-valuemax"))
    # Drag the handle like a student would: 60 px towards the free side of the track.
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + (-60 if at_max else 60), y, steps=10)
    page.mouse.up()
    value_after = handle.get_attribute("aria-valuenow")
    assert value_after != value_before, f"{notebook}: the γ slider did not move ({value_before})"
    changed = wait_until(lambda: heatmap.get_attribute("src") != before, seconds=20.0)
    shoot(page, notebook, suffix="-gamma-moved", element=page.locator(
        ".jp-OutputArea-output", has=page.locator(".a3c-value-heatmap")).first)
    assert changed, (
        f"{notebook}: moving γ from {value_before} to {value_after} did not redraw the heatmap"
    )


@pytest.mark.needs_nb06
def test_training_dashboard_train_and_stop(page, lab_server):
    """Notebook 06: Train starts workers and a live plot; Stop ends training; kernel responsive."""
    notebook = find_notebook("06")
    run_checked(page, lab_server, notebook)  # the checks every notebook gets, then:

    def button(label: str):
        found = page.locator(".jp-Notebook button.widget-button").filter(
            has_text=re.compile(rf"^\s*{label}\s*$")
        )
        assert found.count() >= 1, f"{notebook}: no button with description {label!r}"
        return found.first

    train, stop = button("Train"), button("Stop")
    plot = page.locator(".jp-Notebook img.a3c-live-plot, .jp-Notebook .a3c-live-plot img")
    assert plot.count() >= 1, f"{notebook}: no image with class 'a3c-live-plot' is shown"
    plot = plot.first
    kernel = kernel_process(page, lab_server)

    baseline = {p.pid for p in kernel.children(recursive=True)}

    def workers() -> list[psutil.Process]:
        """Live processes the kernel started after Train was clicked."""
        alive = []
        try:
            children = kernel.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for child in children:
            try:
                helper = any(h in " ".join(child.cmdline()) for h in MP_HELPERS)
                if (child.pid not in baseline and not helper
                        and child.status() != psutil.STATUS_ZOMBIE):
                    alive.append(child)
            except psutil.NoSuchProcess:
                continue
        return alive

    seen = [plot.get_attribute("src")]
    train.scroll_into_view_if_needed()
    train.click()
    started = wait_until(workers, seconds=60.0)
    assert started, f"{notebook}: clicking Train started no worker process"
    most_workers = [len(started)]

    def plot_updates() -> bool:
        most_workers.append(len(workers()))
        src = plot.get_attribute("src")
        if src != seen[-1]:
            seen.append(src)
        return len(seen) - 1 >= 2

    assert wait_until(plot_updates, seconds=120.0, interval=0.1), (
        f"{notebook}: the live plot updated {len(seen) - 1} time(s) in 120 s (expected >= 2)"
    )
    shoot(page, notebook, suffix="-training", element=page.locator(
        ".jp-OutputArea-output", has=page.locator(".a3c-live-plot")).first)

    train_button = page.locator("button.widget-button", has_text=re.compile(r"^\s*Train\s*$"))
    status = page.locator(".jp-Notebook .widget-hbox").filter(has=train_button)
    status = status.locator(".widget-label")
    assert status.count() >= 1, f"{notebook}: no status label next to the Train button"
    status = status.first
    alive = workers()
    assert alive, (
        f"{notebook}: training finished on its own before Stop could be tested "
        f"(status: {status.text_content()!r}); the fast-mode budget of Train is too small"
    )
    stop.scroll_into_view_if_needed()
    clicked = time.monotonic()
    stop.click()
    workers_gone = wait_until(lambda: not workers(), seconds=STOP_SECONDS)
    said_stopped = wait_until(  # both within STOP_SECONDS of the click
        lambda: re.search(r"\bstopped\b", status.text_content() or ""),
        seconds=max(0.0, clicked + STOP_SECONDS - time.monotonic()),
    )
    stop_seconds = time.monotonic() - clicked
    assert said_stopped, (
        f"{notebook}: the status does not say 'stopped' {STOP_SECONDS:.0f} s after Stop: "
        f"{status.text_content()!r}"
    )
    assert workers_gone, (
        f"{notebook}: worker process(es) still alive {STOP_SECONDS:.0f} s after Stop: "
        + "; ".join(" ".join(p.cmdline())[:120] for p in workers())
    )
    # Training has ended: the live plot no longer changes (allow one final redraw).
    page.wait_for_timeout(1000)
    settled = plot.get_attribute("src")
    page.wait_for_timeout(3000)
    assert plot.get_attribute("src") == settled, (
        f"{notebook}: the live plot still changes 1-4 s after Stop"
    )

    # The kernel is still responsive: a new cell runs and prints its result.
    page.evaluate(
        f"""() => {{
          const w = {PANEL};
          w.content.activeCellIndex = w.content.widgets.length - 1;
          return window.jupyterapp.commands.execute('notebook:insert-cell-below');
        }}"""
    )
    page.evaluate(
        f"() => {PANEL}.content.activeCell.model.sharedModel.setSource('print(1 + 1)')"
    )
    asked = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")

    def printed() -> str:
        return "".join(o["text"] for o in page.evaluate(JS_CELLS)[-1]["outputs"]).strip()

    answered = wait_until(lambda: printed() == "2", seconds=10.0)
    text = printed()
    shoot(page, notebook, suffix="-stopped", element=page.locator(
        ".jp-OutputArea-output", has=page.locator(".a3c-live-plot")).first)
    assert answered and text == "2", (
        f"{notebook}: after Stop, `print(1 + 1)` printed {text!r} within "
        f"{time.monotonic() - asked:.1f} s (kernel not responsive?)"
    )
    print(
        f"{notebook}: up to {max(most_workers)} worker processes, {len(seen) - 1} plot "
        f"updates, stopped in {stop_seconds:.1f} s"
    )
