"""Sphinx + MyST-NB configuration of the course website (works offline, builds offline).

Build (README's site command, from the repository folder)::

    .venv/bin/python -m sphinx -b html -c docs . _build/html

The source folder is the repository itself (``.``), so a notebook page's path is its path in the
repository (``notebooks/02_value_functions.ipynb``): the Binder and Colab launch buttons open
exactly that file. Only ``docs/``, ``notebooks/`` and the two Markdown files included from the
repository root are read (``include_patterns``).

The notebooks are executed in CLASS mode (``A3C_FAST`` removed: cached runs from ``data/``, all
plots), one fresh kernel each, with a per-notebook timeout; an error in a notebook fails the
build. MathJax 3 is copied from the ``django-static-mathjax`` package into ``_static/mathjax`` and
every other asset comes from the theme's own files, so the site needs no network: not to build,
not to read (``tests/test_site.py`` checks it in Chromium with the network off).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: The one setting for the repository's address (pyproject.toml [project.urls] Repository).
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
BRANCH = "main"

# Class mode: the notebooks show the cached runs and every plot, as in a lesson.
os.environ.pop("A3C_FAST", None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up chatter in outputs
os.environ.setdefault("MPLBACKEND", "Agg")

project = "A3C from first principles"
author = "the A3C course authors"
copyright = "the A3C course authors"
release = PYPROJECT["project"]["version"]

root_doc = "docs/index"
extensions = ["myst_nb"]
include_patterns = ["docs/**", "notebooks/**"]
exclude_patterns = [
    "_build", ".venv", "**/.ipynb_checkpoints", "docs/tools/**", "docs/conf.py",
    "data", "runs", "tests", "a3c_lib", "benchmarks", ".git", "docs/_templates",
]

# --- notebooks (MyST-NB) -----------------------------------------------------------------------
nb_execution_mode = "force"  # every build runs every notebook: the site shows what the code does
nb_execution_timeout = int(os.environ.get("A3C_SITE_TIMEOUT", "600"))  # seconds per notebook
nb_execution_raise_on_error = True  # a notebook that fails in class mode fails the build
nb_execution_show_tb = True
nb_merge_streams = True
# Widgets (sliders, dashboards, concept checks) need a live kernel, and their JavaScript would
# come from a CDN, which a classroom without internet cannot reach: no widget JavaScript. A
# widget output then stays an invisible placeholder (not its text repr "VBox(children=…)"); the
# page shows the cell's code, and the launch buttons open a kernel to use it.
nb_ipywidgets_js: dict = {}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# --- offline MathJax 3 -------------------------------------------------------------------------
mathjax_path = "mathjax/tex-mml-chtml.js"  # relative: served from _static/ of the built site
mathjax3_config = {"tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]}}


def _mathjax_es5() -> Path:
    spec = find_spec("mathjax")
    folder = Path(spec.origin).parent / "static" / "mathjax" / "es5" if spec else None
    if folder is None or not (folder / "tex-mml-chtml.js").is_file():
        raise RuntimeError("MathJax 3 files not found: install the docs extra "
                           "(`pip install -e \".[docs]\"`, it brings django-static-mathjax)")
    return folder


# matplotlib's HTML animations (notebook 08) link Font Awesome 4 from a CDN for their play
# buttons; offline that request just fails. The theme ships Font Awesome 6 (its JavaScript draws
# the same `fa fa-play` icons), so the link is dropped. Any OTHER outside link stays, and the
# offline test (tests/test_site.py) fails on it.
CDN_LINKS = re.compile(r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/'
                       r'font-awesome/[^"]+">')


def _make_offline(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    shutil.copytree(_mathjax_es5(), Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        offline = CDN_LINKS.sub("", html)
        if offline != html:
            page.write_text(offline, encoding="utf-8")


def setup(app):
    _mathjax_es5()  # fail at the start, not after executing every notebook
    # MathJax on EVERY page: the navigation bar shows notebook titles with math ("J(π)") on
    # pages that have no formula of their own, which Sphinx would leave untypeset.
    app.set_html_assets_policy("always")
    app.connect("build-finished", _make_offline)


# --- theme: search box, launch buttons ---------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path: list[str] = []
templates_path = ["_templates"]
html_additional_pages = {"index": "redirect.html"}  # _build/html/index.html opens the course
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": BRANCH,
    "path_to_docs": "",  # the source folder is the repository root
    "use_repository_button": True,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
}
html_last_updated_fmt = None
