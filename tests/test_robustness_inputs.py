"""Issue 6, bad input: ONE clear message naming the argument and its range — API, CLI, widgets.

Complements test_config.py (every TrainConfig field), test_cli.py (gamma 1.5, lr 'abc',
t_max 0, Pendulum), the tabular modules' own tests (test_mdp/values/returns/policy_gradient:
wrong shapes) and test_exercises.py (a checker names a wrong shape): here are the cases those
do not try — unknown or unusable envs through ``train()``, the CLI's remaining flags, the
warning for too many workers, the dashboard's status line, and the bounded MetricsLog.
"""

import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from process_helpers import group_run

from a3c_lib import cli
from a3c_lib.engine import training
from a3c_lib.engine.config import MAX_WORKERS, TrainConfig, validate_env
from a3c_lib.engine.cpus import available_cpus
from a3c_lib.engine.metrics import RECENT, EpisodeRow, MetricsLog, UpdateRow

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]
CPUS = available_cpus()  # what this process may use (affinity, cgroup quota)


# ---- Python API ---------------------------------------------------------------------------------
def test_workers_far_above_the_cpus_warn_and_absurd_counts_are_refused():
    with pytest.warns(UserWarning, match=f"^workers=64 > the {CPUS} CPU\\(s\\) this process "):
        TrainConfig(workers=64)
    with pytest.raises(ValueError, match=rf"^workers must be an integer in \[1, {MAX_WORKERS}\], "
                                         rf"got {MAX_WORKERS + 1}$"):
        TrainConfig(workers=MAX_WORKERS + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for what the machine has
        TrainConfig(workers=1)


def test_numpy_numbers_are_accepted_and_stored_as_python_numbers():
    c = TrainConfig(workers=np.int64(1), t_max=np.int32(5), gamma=np.float32(0.5))
    assert (c.workers, c.t_max, c.gamma) == (1, 5, 0.5)
    assert type(c.workers) is int and type(c.t_max) is int and type(c.gamma) is float


@pytest.mark.parametrize(("env_id", "message"), [
    ("Foo-v0", "env_id 'Foo-v0' is not a registered gymnasium environment"),
    ("cartpole-v1", "env_id 'cartpole-v1' is not a registered gymnasium environment (did you "
                    "mean CartPole-v0, CartPole-v1?)"),
    ("FrozenLake-v1", "env_id 'FrozenLake-v1': policy 'categorical' (an MLP) needs 1-D Box "
                      "observations, got Discrete(16)"),
])
def test_train_refuses_unknown_and_unsuitable_envs_before_starting(env_id, message):
    with pytest.raises(ValueError) as info:
        training.train(TrainConfig(env_id=env_id, max_steps=100, hidden=(8,)))
    assert str(info.value) == message


def test_an_env_that_cannot_be_built_is_one_value_error(monkeypatch):
    def missing_dependency(*args, **kwargs):
        raise gymnasium.error.DependencyNotInstalled("Box2D is not installed")

    monkeypatch.setattr(gymnasium, "make", missing_dependency)
    with pytest.raises(ValueError, match="^env_id 'CartPole-v1' cannot be created here: "
                                         "DependencyNotInstalled: Box2D is not installed$"):
        validate_env("CartPole-v1")


def test_config_that_is_not_a_train_config_is_refused():
    with pytest.raises(ValueError, match="^config must be a TrainConfig, got dict$"):
        training.start({"gamma": 0.9})


# ---- CLI (in-process: the same main() as `python -m a3c_lib`) ------------------------------------
@pytest.mark.parametrize(("args", "line"), [
    (["--env", "Foo-v0"], "error: env_id 'Foo-v0' is not a registered gymnasium environment"),
    (["--env", "FrozenLake-v1"], "error: env_id 'FrozenLake-v1': policy 'categorical' (an MLP) "
                                 "needs 1-D Box observations, got Discrete(16)"),
    (["--env-kwargs", "{bad"], "error: --env-kwargs must be a JSON object like "
                               "'{\"max_episode_steps\": 200}', got '{bad' (Expecting property "
                               "name enclosed in double quotes)"),
    (["--env-kwargs", "[1]"], "error: --env-kwargs must be a JSON object like "
                              "'{\"max_episode_steps\": 200}', got '[1]'"),
    (["--env-kwargs", '{"gravity": 1}'], "error: --env-kwargs {'gravity': 1} are not accepted by "
                                         "CartPole-v1: TypeError: CartPoleEnv.__init__() got an "
                                         "unexpected keyword argument 'gravity' was raised from "
                                         "the environment creator for CartPole-v1 with kwargs "
                                         "({'gravity': 1})"),
    (["--env", "no_such_module:Foo-v0"], "error: env_id 'no_such_module:Foo-v0': module "
                                         "'no_such_module' cannot be imported: No module named "
                                         "'no_such_module'"),
    (["--workers", "0"], "error: workers must be an integer >= 1, got 0"),
    (["--workers", "1000"], f"error: workers must be an integer in [1, {MAX_WORKERS}], got 1000"),
    (["--lr", "0"], "error: lr must be a finite number > 0, got 0.0"),
    (["--lr=-1e-3"], "error: lr must be a finite number > 0, got -0.001"),
    (["--lr", "nan"], "error: lr must be a finite number > 0, got nan"),
    (["--gamma", "1"], "error: gamma must be in [0, 1), got 1.0"),
    (["--gamma", "abc"], "error: gamma must be in [0, 1), got 'abc'"),
    (["--t-max", "-3"], "error: t_max must be an integer >= 1, got -3"),
    (["--max-steps", "2.5"], "error: max_steps must be an integer >= 1, got '2.5'"),
    (["--hidden", "64", "0"], "error: hidden must be a non-empty tuple of ints >= 1, got (64, 0)"),
    (["--algo", "dqn"], "error: argument --algo: invalid choice: 'dqn' (choose from 'a3c', "
                        "'a2c', 'ac')"),
    (["--resume", "/nonexistent/run"], "error: resume_from must be a checkpoint directory or "
                                       "checkpoint.npz; /nonexistent/run does not exist"),
])
def test_cli_bad_flag_is_one_line_and_exit_code_2(capsys, tmp_path, args, line):
    assert cli.main(["train", *args, "--no-progress", "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [line] and captured.out == ""


def test_cli_out_that_is_a_file_is_refused_before_training(capsys, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a directory")
    assert cli.main(["train", "--out", str(a_file), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: --out {a_file} is not a usable directory: File exists"]


def test_cli_accepts_1e3_for_an_integer_flag():
    args = cli.build_parser().parse_args(["train", "--max-steps", "1e3"])
    assert cli.config_from_args(args).max_steps == 1000


def test_cli_more_workers_than_cpus_is_one_warning_line(tmp_path):
    n = CPUS + 1
    proc = group_run(
        [sys.executable, "-m", "a3c_lib", "train", "--workers", str(n), "--envs-per-worker", "1",
         "--max-steps", "200", "--hidden", "8", "--target-return", "none", "--no-progress",
         "--no-keras", "--out", str(tmp_path / "run")], timeout=100)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"warning: workers={n} > the {CPUS} CPU(s) this process may use: the worker processes "
        "will share cores and each will run slower"]


# ---- widgets: the dashboard shows the engine's message in its status line ----------------------
def test_dashboard_shows_refusals_in_its_status_line(capsys):
    from a3c_lib.viz.dashboard import TrainingDashboard

    dash = TrainingDashboard(TrainConfig(hidden=(8,), target_return=None, max_steps=10**9))
    dash.gamma.max = 1.0
    dash.gamma.value = 1.0
    assert dash.start() is False
    assert dash.status.value == "error: gamma must be in [0, 1), got 1.0"
    dash.gamma.value = 0.9
    other = training.start(TrainConfig(hidden=(8,), target_return=None, max_steps=10**9))
    try:  # a run started elsewhere (another cell) is running: Train is refused, not crashed
        assert dash.start() is False
        assert dash.status.value == ("error: a training run is already running; call "
                                     "run.stop() first")
    finally:
        other.stop()
        other.wait()
    assert capsys.readouterr().err == ""


# ---- MetricsLog: bounded memory however long a run lasts ----------------------------------------
def test_metrics_log_thins_evenly_and_stays_bounded():
    log = MetricsLog(max_rows={"updates": 100, "episodes": 100})
    n = 10_000
    for i in range(0, n, 50):  # batches, as the monitor thread appends them
        log.append("updates", [UpdateRow(0, 8 * j, 0.0, 0, 0, 0, 0, 0, 1e-3, 1)
                               for j in range(i, i + 50)])
        log.append("episodes", [EpisodeRow(0, j, 0.0, float(j), 1) for j in range(i, i + 50)])
    for kind, rows in (("updates", log.updates), ("episodes", log.episodes)):
        stride = log.stride[kind]
        assert 50 <= len(rows) < 100 and stride == 128  # 10_000 rows thinned to every 128th
        received = [r.step // 8 for r in rows] if kind == "updates" else [r.step for r in rows]
        assert received == list(range(0, n, stride))  # evenly spaced, first row kept
    assert (log.n_updates, log.n_episodes) == (n, n)
    # the 100-episode mean is over the last 100 episodes received, not the thinned rows
    assert log.mean_return(100) == pytest.approx(np.mean(np.arange(n - 100, n)))
    assert log.mean_return(RECENT) == pytest.approx(np.mean(np.arange(n - RECENT, n)))


@pytest.mark.parametrize(("max_rows", "message"), [
    ({"updates": 1}, "max_rows['updates'] must be an integer >= 2, got 1"),
    ({"update": 10}, "max_rows keys must be 'episodes' or 'updates', got 'update'"),
])
def test_metrics_log_bad_cap(max_rows, message):
    with pytest.raises(ValueError) as info:
        MetricsLog(max_rows=max_rows)
    assert str(info.value) == message


# --- the tabular API: ragged arrays and wrong objects name the argument -----------------------

def test_ragged_policy_names_the_argument():
    from a3c_lib.gridworld import GridWorld
    from a3c_lib.values import policy_evaluation

    with pytest.raises(ValueError, match="policy must be a rectangular numeric array"):
        policy_evaluation(GridWorld().to_mdp(), [[1.0], [0.5, 0.5]], 0.9)


def test_ragged_next_state_names_the_argument():
    from a3c_lib.mdp import TabularMDP

    with pytest.raises(ValueError, match="next_state must be a rectangular numeric array"):
        TabularMDP(next_state=[[0, 1], [1]], reward=[[0.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("fn", ["policy_evaluation", "exact_policy_gradient"])
def test_not_an_mdp_names_the_argument(fn):
    from a3c_lib import policy_gradient, values

    func = getattr(values, fn, None) or getattr(policy_gradient, fn)
    with pytest.raises(ValueError, match="mdp must be a TabularMDP"):
        func("mdp", [[0.5, 0.5]], 0.9)
