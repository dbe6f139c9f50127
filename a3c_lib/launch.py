"""Open the course: ``python -m a3c_lib lab`` (or just ``a3c-course``) starts JupyterLab.

It opens JupyterLab on the repository's ``notebooks/`` folder, bound to 127.0.0.1 only (the
course never needs to be reachable from another machine), with the Python that runs this
command, so the notebooks' kernel is the same virtual environment that holds ``a3c_lib``.

Root (containers, many lab machines) is handled explicitly: ``jupyter lab`` refuses to start as
root unless it is given ``--allow-root``; here, when the user is root, the flag is added and a
one-line note says so. Anything after ``--`` goes to ``jupyter lab`` unchanged::

    python -m a3c_lib lab                          # opens a browser tab when there is one
    python -m a3c_lib lab --no-browser --port 8890
    python -m a3c_lib lab -- --ServerApp.shutdown_no_activity_timeout=3600

>>> cmd = lab_command(Path("/course/notebooks"), port=8890, open_browser=False, is_root=True,
...                   python="python3")
>>> " ".join(cmd)
'python3 -m jupyter lab --ServerApp.root_dir=/course/notebooks --ServerApp.ip=127.0.0.1 \
--ServerApp.port=8890 --no-browser --allow-root'
>>> lab_command(Path("/course/notebooks"), port=70000)
Traceback (most recent call last):
...
ValueError: --port must be in [1, 65535], got 70000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from a3c_lib.cli import main as cli_main
from a3c_lib.cli import register_command

#: The repository's notebook folder (an editable install keeps a3c_lib/ next to it).
REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HOST = "127.0.0.1"  # loopback only: a course server is never exposed to the network


def running_as_root() -> bool:
    """True for uid 0 on POSIX (Windows has no root: always False)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_notebooks(folder: str | Path | None = None) -> Path:
    """The folder to open: ``folder`` if given, else the repository's, else ``./notebooks``.

    >>> find_notebooks("/no/such/folder")
    Traceback (most recent call last):
    ...
    ValueError: --notebooks must be an existing folder, got '/no/such/folder'
    """
    if folder is not None:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ValueError(f"--notebooks must be an existing folder, got {str(folder)!r}")
        return path.resolve()
    for candidate in (REPO_NOTEBOOKS, Path.cwd() / "notebooks"):
        if candidate.is_dir():
            return candidate.resolve()
    raise ValueError(
        "--notebooks was not given and no notebooks/ folder was found next to a3c_lib or in "
        f"{Path.cwd()}: run this from the repository folder or pass --notebooks PATH"
    )


def lab_command(notebooks: Path, port: int | None = None, open_browser: bool = True,
                is_root: bool = False, python: str = sys.executable,
                extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``jupyter lab`` command line (a list for :func:`subprocess.run`).

    Args:
        notebooks: the folder JupyterLab shows (its root directory).
        port: TCP port in [1, 65535]; None lets Jupyter pick (8888 or the next free one).
        open_browser: open a browser tab (False: print the address only).
        is_root: add ``--allow-root`` (jupyter refuses root without it).
        python: the interpreter whose ``jupyter`` and kernel to use.
        extra: more ``jupyter lab`` arguments, passed unchanged (they come last, so they win).
    """
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"--port must be in [1, 65535], got {port}")
    cmd = [python, "-m", "jupyter", "lab", f"--ServerApp.root_dir={notebooks}",
           f"--ServerApp.ip={HOST}"]
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
    if not open_browser:
        cmd.append("--no-browser")
    if is_root:
        cmd.append("--allow-root")
    return cmd + list(extra)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", default=None, metavar="DIR",
                        help="folder to open (default: the repository's notebooks/)")
    parser.add_argument("--port", type=int, default=None,
                        help="port in [1, 65535] (default: 8888 or the next free one)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a browser tab; print the address instead")
    parser.add_argument("--print-command", action="store_true",
                        help="print the jupyter command instead of running it")
    parser.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                        help="after --: more arguments for jupyter lab")


def _run(args: argparse.Namespace) -> int:
    extra = list(args.jupyter_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    is_root = running_as_root()
    cmd = lab_command(find_notebooks(args.notebooks), port=args.port,
                      open_browser=not args.no_browser, is_root=is_root, extra=extra)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    if is_root:
        print("note: running as root, so JupyterLab is started with --allow-root "
              "(a normal user does not need it)", file=sys.stderr)
    print(f"JupyterLab on http://{HOST} serving {cmd[4].split('=', 1)[1]}; "
          "stop it with Ctrl-C (twice)", file=sys.stderr)
    if os.name == "posix":
        # Become jupyter (same pid): Ctrl-C and kill reach the server itself, nothing is left.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(cmd[0], cmd)
    try:  # Windows: execv would detach the server from the console, so wait for it instead
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


register_command("lab", "open the course notebooks in JupyterLab (127.0.0.1)", _add_arguments,
                 _run)


def script_main(argv: list[str] | None = None) -> int:
    """The ``a3c-course`` script: no arguments opens the course, else as ``python -m a3c_lib``."""
    argv = sys.argv[1:] if argv is None else argv
    return cli_main(argv if argv else ["lab"])
