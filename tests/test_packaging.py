"""The install files agree with each other and with the README, so they cannot drift apart."""

from __future__ import annotations

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_packages() -> list[str]:
    packages, in_deps = [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^  - (\S.*)$", line)  # top-level entries only (not the pip: section's)
        if in_deps and m and not m.group(1).startswith("pip"):
            packages.append(m.group(1))
    return packages


def test_environment_yml_lists_the_runtime_dependencies():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    conda = {_name(p) for p in _conda_packages()} - {"python"}
    assert conda == runtime, (
        f"only in pyproject: {runtime - conda}; only in conda: {conda - runtime}"
    )


def test_environment_yml_pins_match_pyproject():
    runtime = {_name(r): r.replace(" ", "") for r in _pyproject()["project"]["dependencies"]}
    for p in _conda_packages():
        if _name(p) in runtime:
            assert p.replace(" ", "") == runtime[_name(p)], f"{p} differs from {runtime[_name(p)]}"


def test_environment_yml_installs_the_package_with_pip():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README.md must show the test command in a block after <!-- test-command -->"
    command = m.group(1).strip()
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines, (
        f".ci/run must run the README's test command {command!r}"
    )


def test_readme_has_exactly_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "<!-- open-command -->" in readme and "<!-- test-command -->" in readme
