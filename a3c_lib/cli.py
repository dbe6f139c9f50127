"""Command line: ``python -m a3c_lib train --algo a3c --env CartPole-v1 --workers 2 --out DIR``.

The ``train`` flags are generated from ``dataclasses.fields(TrainConfig)`` (help = the field's line
in ``config.FIELD_DOCS``), so the CLI cannot drift from the config. Subcommands live in the
``COMMANDS`` registry; another module adds one with :func:`register_command`.

Bad input prints ONE line ``error: <message>`` to stderr and exits with code 2 (no traceback);
a warning (e.g. more workers than CPUs) is one line ``warning: <message>``. Ctrl-C stops the
workers within about a second (a second Ctrl-C does not cut the clean-up short), writes the partial
results (metrics.csv, summary.json, weights.npz, the checkpoint; not the Keras file, whose
TensorFlow import takes seconds) and exits with code 130; SIGTERM (``kill``, a job scheduler)
does the same and exits with code 143. A failing worker prints ``error: worker 1 failed:`` and
the worker's traceback, and exits with code 1. The command returns only once every output file is
written.

``--env-kwargs`` takes a JSON object (``'{"max_episode_steps": 200}'``); bad JSON, or keywords
the environment refuses, are one ``error: --env-kwargs …`` line.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from a3c_lib.engine.config import FIELD_DOCS, TrainConfig


class Command:
    """A subcommand: its help line, a function adding its flags, and the function running it."""

    def __init__(self, help: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                 run: Callable[[argparse.Namespace], int]) -> None:
        self.help, self.add_arguments, self.run = help, add_arguments, run


COMMANDS: dict[str, Command] = {}


def register_command(name: str, help: str, add_arguments, run) -> None:
    """Add (or replace) subcommand ``name``; ``run(args) -> exit code``."""
    COMMANDS[name] = Command(help, add_arguments, run)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _flag(name: str) -> str:
    return "--env" if name == "env_id" else "--" + name.replace("_", "-")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field; values stay strings here and TrainConfig validates them."""
    defaults = TrainConfig.__dataclass_fields__
    for f in dataclasses.fields(TrainConfig):
        default = defaults[f.name].default
        if default is dataclasses.MISSING:  # hidden, env_kwargs, workers: a default_factory
            default = defaults[f.name].default_factory()
        if f.name == "env_kwargs":
            default = json.dumps(default)
        kwargs = dict(dest=f.name, default=None, metavar=f.name.upper(),
                      help=f"{FIELD_DOCS[f.name]} (default: {default})")
        if f.name == "hidden":
            kwargs["nargs"] = "+"
        if f.name == "algo":
            kwargs["choices"] = ["a3c", "a2c", "ac"]
        names = [_flag(f.name)] + (["--env-id"] if f.name == "env_id" else [])
        parser.add_argument(*names, **kwargs)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from the parsed flags (ValueError with the field's rule on bad input)."""
    kwargs = {}
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name)
        if value is not None:
            kwargs[f.name] = _convert(f.name, value)
    return TrainConfig.for_env(**kwargs)  # the env's defaults (engine/tasks.py) under the flags


def _convert(name: str, value):
    """'0.99' -> 0.99, '8' -> 8, 'none' -> None; leaves what does not parse for TrainConfig."""
    kind = TrainConfig.__dataclass_fields__[name].type
    if name == "hidden":
        return tuple(_convert("t_max", v) for v in value)
    if name in ("target_return", "reward_clip") and value.lower() in ("none", "null"):
        return None
    if name == "env_kwargs":
        try:
            kwargs = json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"--env-kwargs must be a JSON object like '{{\"max_episode_steps\": "
                             f"200}}', got {value!r} ({err.msg})") from None
        if not isinstance(kwargs, dict):
            raise ValueError(f"--env-kwargs must be a JSON object like '{{\"max_episode_steps\": "
                             f"200}}', got {value!r}")
        return kwargs
    for cast in ((int, _integral_float) if kind == "int" else (float,) if "float" in kind
                 else ()):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _integral_float(text: str) -> int:
    """'1e6' -> 1000000 (people type budgets that way); '2.5' stays a ValueError."""
    x = float(text)
    if not x.is_integer():
        raise ValueError(text)
    return int(x)


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--out", default=None,
                        help="output directory (default: runs/ALGO-ENV-sSEED)")
    parser.add_argument("--resume", default=None, metavar="DIR",
                        help="continue from the checkpoint in DIR")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.add_argument("--no-keras", action="store_true",
                        help="skip model.weights.h5 (saving it imports TensorFlow)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that it ends the run like Ctrl-C does."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _run_train(args: argparse.Namespace) -> int:
    from a3c_lib.engine import training  # imported here: `--help` stays instant
    from a3c_lib.engine.envs import env_spaces

    with warnings.catch_warnings(record=True) as caught:  # e.g. more workers than CPUs
        warnings.simplefilter("always")
        config = config_from_args(args)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    try:
        env_spaces(config.env_id, config.env_kwargs)
    except ValueError as err:  # name the flag the user typed
        text = str(err)
        raise ValueError("--env-kwargs" + text[len("env_kwargs"):] if
                         text.startswith("env_kwargs") else text) from None
    out = Path(args.out or f"runs/{config.algo}-{config.env_id.replace(':', '.')}"
                           f"-s{config.seed}")
    try:  # a bad --out fails now, not after the training
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"--out {out} is not a usable directory: {err.strerror}") from None
    previous = signal.signal(signal.SIGTERM, _raise_terminated)  # like Ctrl-C
    interrupted = None
    try:
        run = training.start(config, out_dir=out, resume_from=args.resume)
        bar = None if args.no_progress else training._progress_bar(run)
        try:
            while run.wait(timeout=0.2) is None:
                if bar is not None:
                    training._update_bar(bar, run)
        except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM
            interrupted = stop
            training.stop_and_wait(run)  # a second Ctrl-C does not cut the clean-up short
        finally:
            if bar is not None:
                training._update_bar(bar, run)
                bar.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
    result = run.result  # wait() returned: every file is written
    if not args.no_keras and interrupted is None and not run.error and result.spec is not None:
        from a3c_lib.keras import networks  # TensorFlow (quietly): only now, workers are done
        from a3c_lib.nn.gaussian import GaussianSpec

        if isinstance(result.spec, GaussianSpec):  # continuous actions: its own Keras twin
            from a3c_lib.keras import gaussian as networks
        networks.save_theta(result.theta, result.spec, Path(out) / "model.weights.h5")
    s = result.summary
    if interrupted is not None:
        how = "terminated" if isinstance(interrupted, Terminated) else "interrupted"
        print(f"{how}: training stopped after {s['global_steps']} steps; partial results "
              f"in {out}", file=sys.stderr)
        return 143 if how == "terminated" else 130
    if run.error:
        first, _, rest = run.error.partition("\n")
        print(f"error: {first}\n{rest}".rstrip(), file=sys.stderr)  # "error: worker 1 failed:"
        print(f"error: training failed; partial results in {out}", file=sys.stderr)
        return 1
    solved = (f"solved at step {s['solve_steps']} ({s['solve_seconds']:.1f} s)" if s["solved"]
              else f"not solved (stopped by {s['stopped_by']})")
    mean = s["final_mean_return"]
    print(f"{config.algo} on {config.env_id}: {solved}; {s['global_steps']} steps, "
          f"{s['steps_per_second']:.0f} steps/s, mean return (last 100) "
          f"{'-' if mean is None else f'{mean:.1f}'}; results in {out}")
    return 0


register_command("train", "train an agent (a3c, a2c or ac)", _add_train_arguments, _run_train)


#: Modules that register their own subcommands when imported (missing ones are skipped).
COMMAND_MODULES = ["a3c_lib.experiments.reproduce", "a3c_lib.launch"]


def _import_command_modules() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # the module exists but one of ITS imports is missing: say so
                raise


def build_parser() -> argparse.ArgumentParser:
    _import_command_modules()
    parser = _Parser(prog="python -m a3c_lib", description="A3C from first principles")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 failed run, 2 bad input, 130 Ctrl-C,
    143 SIGTERM)."""
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise _UsageError(f"choose a command: {', '.join(COMMANDS)}")
        return COMMANDS[args.command].run(args)
    except (_UsageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
