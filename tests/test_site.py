"""The course website: built with the README's site command, read offline in headless Chromium.

One build (module fixture, ~4-6 min on 2 busy cores: every notebook runs in class mode) into a
temporary folder, served on 127.0.0.1. Chromium's network is OFF: every request that is not to
that server is aborted AND recorded, and the test fails if there was any. Then: every page loads
without a script error, no internal link (file or #anchor) is broken, every formula is typeset by
the MathJax served from the site (no TeX error), every image is present (naturalWidth > 0), the
search box finds a word, and every notebook page has Binder and Colab launch buttons built from
the one repository setting in pyproject.toml.

``A3C_SITE_DIR=_build/html`` checks an already built folder instead of building (quicker while
editing the docs; CI always builds).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import tomllib
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import psutil
import pytest
from e2e.chromium import chromium_or_skip

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.relative_to(ROOT) for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
BUILD_SECONDS = 1800  # the whole build; each notebook also has its own timeout (docs/conf.py)
PAGE_SECONDS = 60.0

# A browser test (`-m "not e2e"` leaves it out). The build runs inside the first test's setup,
# so the suite's 600 s per-test timeout would count it: this module gets its own limit.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(BUILD_SECONDS + 900)]


def _readme_site_command() -> list[str]:
    """The sphinx part of the README's site command (the venv steps are the caller's)."""
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- site-command -->\s*```bash\n(.+?)\n```", readme, re.S)
    assert m, "README.md must show the site command after <!-- site-command -->"
    last = m.group(1).split("&&")[-1].split()
    assert last[:3] == [".venv/bin/python", "-m", "sphinx"], last
    return [sys.executable, *last[1:]]


def _kill_tree(process: subprocess.Popen) -> None:
    """Ends the build and every kernel it started (kernels run in sessions of their own)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait(timeout=30)
    psutil.wait_procs(children, timeout=30)


@pytest.fixture(scope="module")
def chromium():
    return chromium_or_skip(pytest)  # before the build: no browser, no minutes spent building


@pytest.fixture(scope="module")
def site(chromium):
    prebuilt = os.environ.get("A3C_SITE_DIR")
    if prebuilt:
        yield Path(prebuilt).resolve()
        return
    work = Path(tempfile.mkdtemp(prefix="a3c-site-"))
    command = _readme_site_command()
    command[-1] = str(work / "html")  # not the repository's _build/html
    env = {k: v for k, v in os.environ.items() if k != "A3C_FAST"}  # class mode
    log = work / "build.log"
    process = None
    try:
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                code = process.wait(timeout=BUILD_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
        text = log.read_text(errors="replace")
        assert code == 0, f"site build {'timed out' if code is None else f'exited {code}'}:\n" \
                          f"{text[-6000:]}"
        yield work / "html"
    finally:
        if process is not None and process.poll() is None:
            _kill_tree(process)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def server(site):
    """The built folder served on 127.0.0.1 (a random free port), stopped afterwards."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log on the test's output
        pass


@pytest.fixture(scope="module")
def offline_browser(chromium, server):
    """A headless Chromium whose only reachable host is the site server; yields (context, blocked).

    ``blocked`` lists every request that tried to leave it (the test fails if any did).
    """
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )
        try:
            context = browser.new_context(offline=False, viewport={"width": 1280, "height": 900},
                                          service_workers="block")
            context.route("**/*", route)
            yield context, blocked
            context.close()
        finally:
            browser.close()


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0].startswith("_"))


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


JS_LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
JS_IMAGES = """() => [...document.images].map(i => ({src: i.currentSrc || i.src,
                                                     ok: i.complete && i.naturalWidth > 0}))"""
JS_MATH = """async () => {
  const nodes = [...document.querySelectorAll('.math')];
  if (!nodes.length) return {math: 0, typeset: 0, errors: 0};
  if (!(window.MathJax && window.MathJax.startup)) {  // the MathJax script did not load
    return {math: nodes.length, typeset: 0, errors: 0};
  }
  await window.MathJax.startup.promise;  // MathJax 3: resolves after the first typeset pass
  return {
    math: nodes.length,
    typeset: nodes.filter(n => n.querySelector('mjx-container') ||
                               n.tagName.toLowerCase() === 'mjx-container').length,
    errors: document.querySelectorAll('mjx-merror').length,
  };
}"""


def test_every_notebook_has_a_page_and_the_site_has_its_parts(site):
    pages = _pages(site)
    for notebook in NOTEBOOKS:
        assert notebook.with_suffix(".html").as_posix() in pages, f"no page for {notebook}"
    for page in ("index.html", "docs/index.html", "docs/course_map.html", "docs/setup.html",
                 "docs/teachers.html", "search.html"):
        assert page in pages, page
    if (ROOT / "notebooks" / "glossary.md").exists():
        assert "notebooks/glossary.html" in pages
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_every_notebook_page_has_binder_and_colab_buttons(site):
    owner_repo = urlparse(REPOSITORY).path.strip("/")
    for notebook in NOTEBOOKS:
        html = (site / notebook.with_suffix(".html")).read_text()
        path = notebook.as_posix()
        assert f"https://mybinder.org/v2/gh/{owner_repo}/main?urlpath=lab/tree/{path}" in html
        assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/{path}" in html


def test_every_page_loads_offline_with_math_images_and_links(site, server, offline_browser):
    context, blocked = offline_browser
    pages = _pages(site)
    problems: list[str] = []
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    missing: list[str] = []  # any file of the site that a page asked for and did not get
    page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    math_total = 0
    try:
        for name in pages:
            errors.clear()
            response = page.goto(server + name, wait_until="load", timeout=PAGE_SECONDS * 1000)
            if response is None or response.status != 200:
                problems.append(f"{name}: HTTP {response and response.status}")
                continue
            if name == "index.html":  # the site's front door forwards to the course's index
                page.wait_for_url(server + "docs/index.html", timeout=PAGE_SECONDS * 1000)
                continue  # docs/index.html is checked in its own turn
            math = page.evaluate(JS_MATH)
            math_total += math["math"]
            if math["typeset"] != math["math"] or math["errors"]:
                problems.append(f"{name}: {math['typeset']}/{math['math']} formulas typeset, "
                                f"{math['errors']} TeX errors")
            for image in page.evaluate(JS_IMAGES):
                if not image["ok"]:
                    problems.append(f"{name}: image not loaded: {image['src']}")
            for href in page.evaluate(JS_LINKS):
                if not href.startswith(server):
                    continue  # outbound (launch buttons, GitHub): not followed offline
                target, fragment = urldefrag(href)
                relative = unquote(target[len(server):]) or "index.html"
                path = site / relative
                if path.is_dir():
                    path = path / "index.html"
                if not path.is_file():
                    problems.append(f"{name}: broken link {href}")
                elif fragment and path.suffix == ".html" and \
                        unquote(fragment) not in _ids(path.read_text(errors="replace")):
                    problems.append(f"{name}: broken anchor {href}")
            page.wait_for_load_state("networkidle")  # fonts MathJax asked for, lazy assets
            problems += [f"{name}: script error {e}" for e in errors]
            problems += [f"{name}: missing {m}" for m in missing]
            missing.clear()
    finally:
        page.close()
    assert not blocked, "the site tried to reach the network:\n" + "\n".join(sorted(set(blocked)))
    assert not problems, "\n".join(problems)
    assert math_total > 20, f"only {math_total} formulas on the whole site"


def test_search_box_finds_a_word_offline(server, offline_browser):
    context, blocked = offline_browser
    page = context.new_page()
    try:
        page.goto(server + "search.html?q=advantage", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=PAGE_SECONDS * 1000)
        hits = page.locator("#search-results ul.search li a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert any("03_advantage" in h for h in hits), hits
    assert not blocked, blocked
