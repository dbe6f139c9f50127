"""``python -m a3c_lib lab`` / ``a3c-course``: JupyterLab on notebooks/, loopback only, root ok.

The last test starts the real server the way a student does (in its own process group, with
throwaway Jupyter config/runtime folders), waits until its REST API answers, checks that it
listens on 127.0.0.1 only and serves the course's notebooks, and kills the whole group on
every exit path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from process_helpers import group_run

from a3c_lib import launch

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 90.0  # JupyterLab's start-up on a busy 2-core machine takes 3-15 s


def test_lab_command_binds_loopback_and_opens_the_notebooks():
    cmd = launch.lab_command(Path("/x/notebooks"), port=8899, open_browser=True, is_root=False,
                             python="py")
    assert cmd == ["py", "-m", "jupyter", "lab", "--ServerApp.root_dir=/x/notebooks",
                   "--ServerApp.ip=127.0.0.1", "--ServerApp.port=8899"]


def test_root_gets_allow_root_and_a_normal_user_does_not():
    as_root = launch.lab_command(Path("/n"), is_root=True, python="py")
    as_user = launch.lab_command(Path("/n"), is_root=False, python="py")
    assert "--allow-root" in as_root
    assert "--allow-root" not in as_user


def test_extra_arguments_come_last_and_no_browser():
    cmd = launch.lab_command(Path("/n"), open_browser=False, python="py", extra=["--a=1"])
    assert cmd[-2:] == ["--no-browser", "--a=1"]


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_bad_port_is_one_clear_value_error(port):
    with pytest.raises(ValueError, match=rf"--port must be in \[1, 65535\], got {port}"):
        launch.lab_command(Path("/n"), port=port)


def test_missing_notebook_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="--notebooks must be an existing folder"):
        launch.find_notebooks(tmp_path / "absent")


def test_default_folder_is_the_repository_notebooks():
    assert launch.find_notebooks() == (ROOT / "notebooks").resolve()


def test_cli_prints_the_command_with_root_handled():
    out = group_run([sys.executable, "-m", "a3c_lib", "lab", "--print-command", "--no-browser"],
                    timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert f"--ServerApp.root_dir={(ROOT / 'notebooks').resolve()}" in line
    assert "--ServerApp.ip=127.0.0.1" in line
    assert ("--allow-root" in line) == (os.name == "posix" and os.geteuid() == 0)


def test_cli_bad_port_exits_2_with_one_line():
    out = group_run([sys.executable, "-m", "a3c_lib", "lab", "--port", "70000"], timeout=120,
                    cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: --port must be in [1, 65535], got 70000"


def test_a3c_course_script_without_arguments_opens_the_lab(monkeypatch):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["a3c-course"] == "a3c_lib.launch:script_main"
    seen = []
    monkeypatch.setattr(launch, "cli_main", lambda argv: seen.append(argv) or 0)
    assert launch.script_main([]) == 0
    assert launch.script_main(["train", "--help"]) == 0
    assert seen == [["lab"], ["train", "--help"]]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_lab_server_comes_up_on_loopback_and_serves_the_notebooks():
    work = Path(tempfile.mkdtemp(prefix="a3c-launch-"))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), JUPYTER_DATA_DIR=str(work / "data"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"), IPYTHONDIR=str(work / "ipython"))
    log = open(work / "server.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "a3c_lib", "lab", "--no-browser", "--port", str(port), "--",
         f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: one killpg ends it all
    )
    try:
        deadline, status = time.monotonic() + START_SECONDS, None
        while status is None:
            assert process.poll() is None, (work / "server.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "JupyterLab did not answer in time"
            try:
                status = _get(f"http://127.0.0.1:{port}/api/status", token)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        # execv: the launcher's pid IS the server; it listens on loopback only
        listening = [c.laddr for c in psutil.Process(process.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}, listening
        names = {item["name"] for item in _get(f"http://127.0.0.1:{port}/api/contents",
                                               token)["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert expected and expected <= names
        text = (work / "server.log").read_text(errors="replace")
        if os.geteuid() == 0:
            assert "running as root, so JupyterLab is started with --allow-root" in text
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    assert process.returncode is not None
