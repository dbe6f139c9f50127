"""The install files agree with each other and with the README, so they cannot drift apart."""

from __future__ import annotations

import pathlib
import re
import tomllib

import pytest

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


def _readme_command(marker: str) -> str:
    readme = (ROOT / "README.md").read_text()
    m = re.search(rf"<!-- {marker} -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, f"README.md must show a command in a block after <!-- {marker} -->"
    return m.group(1).strip()


def test_readme_has_the_open_test_and_site_commands():
    for marker in ("open-command", "test-command", "site-command"):
        assert "\n" not in _readme_command(marker), f"the {marker} must be one line"


@pytest.mark.parametrize("marker", ["open-command", "test-command", "site-command"])
def test_readme_commands_use_a_venv_not_the_system_python(marker):
    # Debian/Ubuntu's python3 refuses `pip install` (externally-managed-environment): every
    # command creates or reuses .venv/ and installs and runs with that interpreter only.
    command = _readme_command(marker)
    steps = [step.strip() for step in command.split("&&")]
    assert steps[0] == "python3 -m venv .venv"
    assert all(step.startswith(".venv/bin/python -m ") for step in steps[1:]), steps
    assert "pip install -e ." in steps[1] or 'pip install -e ".[' in steps[1]


def test_open_command_starts_the_launcher():
    assert _readme_command("open-command").endswith(".venv/bin/python -m a3c_lib lab")


def test_site_command_builds_into_build_html():
    assert _readme_command("site-command").endswith("-m sphinx -b html -c docs . _build/html")
    extras = _pyproject()["project"]["optional-dependencies"]
    assert "docs" in extras
    assert "a3c-course[docs]" in extras["test"], "the test extra must bring the site's packages"


def test_test_command_is_the_last_line_of_ci_run():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()]
    assert lines[-1] == _readme_command("test-command")
