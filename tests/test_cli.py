"""`python -m a3c_lib train …`: flags from the dataclass, outputs, one-line errors, Ctrl-C."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from process_helpers import group_popen, group_run

from a3c_lib import cli
from a3c_lib.engine.config import TrainConfig

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--hidden", "16", "--target-return", "none", "--no-progress"]


def run_cli(*args, **kwargs):
    return group_run([sys.executable, "-m", "a3c_lib", *args], timeout=150,
                     cwd=kwargs.get("cwd", ROOT))


def test_every_config_field_has_a_flag_with_its_doc():
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    flags = {s for a in train_parser._actions for s in a.option_strings}
    for f in dataclasses.fields(TrainConfig):
        assert cli._flag(f.name) in flags
    help_text = train_parser.format_help()
    assert "discount factor γ; in [0, 1)" in help_text and "--t-max" in help_text


def test_flags_become_a_validated_config():
    args = cli.build_parser().parse_args(
        ["train", "--algo", "a2c", "--env", "CartPole-v1", "--gamma", "0.9", "--t-max", "7",
         "--hidden", "8", "8", "--target-return", "none", "--lr", "1e-3"])
    cfg = cli.config_from_args(args)
    assert (cfg.algo, cfg.gamma, cfg.t_max, cfg.hidden, cfg.target_return, cfg.lr) == \
        ("a2c", 0.9, 7, (8, 8), None, 1e-3)
    assert cfg.workers == TrainConfig().workers  # unset flags keep the dataclass defaults


@pytest.mark.parametrize(("args", "line"), [
    (["--gamma", "1.5"], "error: gamma must be in [0, 1), got 1.5"),
    (["--lr", "abc"], "error: lr must be a finite number > 0, got 'abc'"),
    (["--t-max", "0"], "error: t_max must be an integer >= 1, got 0"),
    (["--env", "FrozenLake-v1"], "error: env_id 'FrozenLake-v1': policy 'categorical' (an MLP) "
                                 "needs 1-D Box observations, got Discrete(16)"),
    (["--env-kwargs", "{bad"], "error: --env-kwargs must be a JSON object like "
                               "'{\"max_episode_steps\": 200}', got '{bad' (Expecting property "
                               "name enclosed in double quotes)"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, line):
    proc = run_cli("train", *args, "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [line]
    assert "Traceback" not in proc.stderr


def test_main_returns_2_for_unknown_flags_and_no_command(capsys):
    assert cli.main(["train", "--bogus"]) == 2
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "error: unrecognized arguments: --bogus"
    assert err[1].startswith("error: choose a command: train") and len(err) == 2


def test_registry_accepts_new_commands(capsys):
    def add(parser):
        parser.add_argument("--n", type=int, default=1)

    cli.register_command("echo-test", "test command", add, lambda a: print("n =", a.n) or 0)
    try:
        assert cli.main(["echo-test", "--n", "3"]) == 0
        assert capsys.readouterr().out == "n = 3\n"
    finally:
        del cli.COMMANDS["echo-test"]


def test_short_run_writes_the_files(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("train", "--algo", "a2c", "--max-steps", "600", "--out", str(out), *SHORT)
    assert proc.returncode == 0, proc.stderr
    # defect 7: saving the Keras file imports TensorFlow, whose absl start-up lines ("All log
    # messages before absl::InitializeLog()", oneDNN, CUDA) must not reach the user
    assert proc.stderr == "", proc.stderr
    assert "not solved (stopped by max_steps)" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["global_steps"] >= 600 and summary["config"]["algo"] == "a2c"
    assert (out / "metrics.csv").read_text().startswith("kind,worker,step,time,")
    weights = np.load(out / "weights.npz", allow_pickle=False)
    assert weights["theta"].shape == (4 * 16 + 16 + 16 * 2 + 2 + 16 + 1,)
    h5 = out / "model.weights.h5"
    assert h5.is_file() and h5.stat().st_size > 0


def test_ctrl_c_stops_and_writes_partial_results(tmp_path):
    out = tmp_path / "run"
    with group_popen([sys.executable, "-m", "a3c_lib", "train", "--max-steps", "100000000",
                      "--out", str(out), "--checkpoint-every", "5", "--no-keras", *SHORT],
                     stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 60
        while not (out / "checkpoint.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.05)  # the first checkpoint: the workers are training for sure
        os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: training stopped after ") and str(out) in last
    assert "Traceback" not in stderr
    for name in ("metrics.csv", "summary.json", "weights.npz"):
        assert (out / name).is_file()
    assert json.loads((out / "summary.json").read_text())["stopped_by"] == "stop"


def test_env_kwargs_and_a_module_prefixed_env_reach_the_workers(tmp_path):
    out, report = tmp_path / "run", tmp_path / "report"
    report.mkdir()
    proc = run_cli("train", "--env", "fault_envs:A3CProbe-v0", "--env-kwargs",
                   json.dumps({"report": str(report)}), "--max-steps", "300", "--workers", "2",
                   "--out", str(out), "--no-keras", *SHORT)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["env_kwargs"] == {"report": str(report)}
    loaded = [json.loads(p.read_text()) for p in report.glob("*.json")]
    assert len(loaded) >= 3  # the CLI's check and both workers made the env with the kwargs


def test_importing_tensorflow_through_a3c_lib_keras_prints_nothing():
    """Defect 7, for notebooks and scripts: ``from a3c_lib.keras import tf`` (or importing any
    module of a3c_lib.keras) shows none of TensorFlow's absl start-up lines; a later
    ``import tensorflow`` finds it loaded; a first TensorFlow op prints nothing either."""
    code = ("from a3c_lib.keras import tf, keras\n"
            "import tensorflow\n"
            "assert tensorflow is tf\n"
            "print(float(tf.reduce_sum(tf.ones(3))))\n")
    proc = group_run([sys.executable, "-c", code], timeout=150)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "3.0\n" and proc.stderr == ""
