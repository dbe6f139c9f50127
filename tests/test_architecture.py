"""The package boundaries, checked statically (ast) and in a real spawned worker.

* a3c_lib.engine and a3c_lib.nn never import a3c_lib.keras, a3c_lib.viz, tensorflow, keras or
  matplotlib (at any depth: a function-level import counts too);
* a spawned training worker has neither tensorflow nor matplotlib in ``sys.modules``, even when
  the parent process has both loaded;
* no import cycles among a3c_lib's modules (the mdp <-> gridworld and render <-> reproduce
  circles stay broken).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from fault_envs import PROBE_ID

from a3c_lib.engine import training
from a3c_lib.engine.config import TrainConfig

PACKAGE = Path(__file__).resolve().parents[1] / "a3c_lib"
FORBIDDEN = ("a3c_lib.keras", "a3c_lib.viz", "tensorflow", "keras", "matplotlib")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str | None = None) -> set[str]:
    """Every module ``path`` (module name ``module``) imports, anywhere in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}  # "from pkg import mod"
    return found


def a3c_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


@pytest.mark.parametrize("layer", ["engine", "nn"])
def test_engine_and_nn_never_import_keras_viz_tensorflow_or_matplotlib(layer):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    bad = {}
    for path in files:
        hits = sorted(name for name in imports_of(path)
                      if any(name == f or name.startswith(f + ".") for f in FORBIDDEN))
        if hits:
            bad[str(path.relative_to(PACKAGE))] = hits
    assert bad == {}


def test_the_static_check_would_see_a_forbidden_import(tmp_path):
    """The scanner itself: nested and relative imports are found."""
    fake = tmp_path / "x.py"
    fake.write_text("def f():\n    import matplotlib.pyplot as plt\n"
                    "    from ..viz import plots\n")
    found = imports_of(fake, "a3c_lib.engine.x")
    assert {"matplotlib.pyplot", "a3c_lib.viz", "a3c_lib.viz.plots"} <= found


def test_no_import_cycles_among_a3c_lib_modules():
    modules = a3c_modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports_of(path):
            # "from a3c_lib.nn import mlp" names a3c_lib.nn.mlp; "import a3c_lib.nn" the package
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                # importing a submodule runs its package's __init__, but that is not a
                # dependency of the package on the submodule's importer: keep the edge as is
                targets.add(imported)
        graph[name] = targets
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "active"
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "active":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []
    # the two circles the restructure broke, named explicitly
    assert "a3c_lib.gridworld" not in graph["a3c_lib.mdp"] or \
        "a3c_lib.mdp" not in graph["a3c_lib.gridworld"]
    assert "a3c_lib.experiments.reproduce" not in graph["a3c_lib.viz.render"]


@pytest.mark.timeout(300)
def test_a_spawned_worker_loads_neither_tensorflow_nor_matplotlib(tmp_path):
    import matplotlib.pyplot  # noqa: F401 - the PARENT has both loaded ...

    import a3c_lib.keras  # noqa: F401

    cfg = TrainConfig(env_id=PROBE_ID, env_kwargs={"report": str(tmp_path)}, workers=2,
                      hidden=(8,), max_steps=200, target_return=None)
    training.train(cfg)
    reports = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    parent = reports.pop(str(os.getpid()))
    assert parent["tensorflow"] and parent["matplotlib"]  # ... so the probe can see them
    assert len(reports) == 2  # ... and the two workers have neither
    for loaded in reports.values():
        assert loaded == {"tensorflow": False, "keras": False, "matplotlib": False,
                          "a3c_lib.keras": False, "a3c_lib.viz": False}
