"""Beyond CartPole: every task of notebook 09 runs, learns a little, and refuses bad input clearly.

Short runs (a few thousand steps) of every task in ``engine/tasks.py`` with both policy types;
one slow learning test per new task family with generous bounds. How FAST each task is solved
is ``benchmarks/solve_tasks.py``'s business, never asserted here.
"""

import json
import sys

import numpy as np
import pytest
from process_helpers import group_run, run_until_every_worker_updated

from a3c_lib.engine import training
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.rewards import shape_rewards
from a3c_lib.engine.seeding import run_seeds
from a3c_lib.engine.tasks import TASKS, task_defaults
from a3c_lib.nn.gaussian import GaussianPolicy
from a3c_lib.nn.policy import CategoricalMLP

pytestmark = pytest.mark.timeout(120)


def initial_theta(result, cfg):
    return result.policy.init_params(np.random.default_rng(run_seeds(cfg.seed, 1, 1).init))


@pytest.mark.parametrize("env_id", list(TASKS))
@pytest.mark.parametrize("algo", ["a3c", "a2c"])
def test_short_run_of_every_task_applies_finite_updates(env_id, algo):
    # a3c: the run ends when EVERY worker has applied an update (a state, not a step budget:
    # under CPU load one worker can spend a small budget before the other starts); the large
    # max_steps is only a safety net. a2c is one process: a small budget is deterministic.
    cfg = TrainConfig.for_env(env_id, algo=algo, workers=2, envs_per_worker=2, t_max=5,
                              hidden=(16,), max_steps=1500 if algo == "a2c" else 10_000_000,
                              target_return=None, seed=1)
    result = run_until_every_worker_updated(cfg) if algo == "a3c" else training.train(cfg)
    s = result.summary
    continuous = env_id in ("Pendulum-v1", "LunarLanderContinuous-v3")
    assert isinstance(result.policy, GaussianPolicy if continuous else CategoricalMLP)
    assert s["error"] is None and s["stopped_by"] == ("stop" if algo == "a3c" else "max_steps")
    assert min(s["worker_updates"]) > 0 and s["updates"] == sum(s["worker_updates"])
    theta0 = initial_theta(result, cfg)
    assert np.isfinite(result.theta).all() and not np.allclose(result.theta, theta0)
    updates = result.metrics.updates
    assert len(updates) == s["updates"]
    assert all(np.isfinite([u.policy_loss, u.value_loss, u.entropy, u.grad_norm]).all()
               for u in updates)
    assert s["config"]["reward_scale"] == task_defaults(env_id).get("reward_scale", 1.0)


def test_reward_scale_changes_what_the_learner_sees_not_the_reported_returns():
    rewards = np.array([[-1.0, -1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(shape_rewards(rewards, 0.1), rewards * 0.1)
    np.testing.assert_allclose(shape_rewards(rewards, 3.0, reward_clip=2.0), [[-2, -2], [-2, 0]])
    runs = [training.train(TrainConfig(env_id="Acrobot-v1", algo="a2c", workers=2,
                                       envs_per_worker=1, t_max=5, hidden=(8,), seed=0,
                                       max_steps=1200, target_return=None, reward_scale=c))
            for c in (1.0, 0.1)]
    for run in runs:  # reported returns are RAW: −1 per step (0 on the step reaching the goal)
        episodes = run.metrics.episodes
        assert episodes and all(e.ret in (-e.length, -(e.length - 1)) for e in episodes)
    # the FIRST update of these seeded a2c runs sees the same states and V(s) (same θ0, envs
    # and rng), but returns G ≈ −5 vs G̃ ≈ −0.5: the critic's loss ½(G − V)² is far smaller
    first = [run.metrics.updates[0].value_loss for run in runs]
    assert first[0] > 10 * first[1] > 0


def test_for_env_precedence_yours_then_the_tasks_then_the_dataclass():
    cfg = TrainConfig.for_env("LunarLander-v3", lr=5e-4)
    assert cfg.lr == 5e-4  # yours
    assert cfg.reward_scale == TASKS["LunarLander-v3"].config["reward_scale"]  # the task's
    assert cfg.rms_alpha == TrainConfig().rms_alpha  # the dataclass's
    assert cfg.target_return == 200.0 and cfg.max_steps == TASKS["LunarLander-v3"].budget
    assert TrainConfig.for_env("CartPole-v1").to_dict() == TrainConfig().to_dict() | {
        "max_steps": TASKS["CartPole-v1"].budget}


# ---- bad input: one clear error each -------------------------------------------------------

def test_continuous_env_with_a_discrete_only_policy_is_one_clear_error():
    cfg = TrainConfig.for_env("Pendulum-v1", policy="categorical", max_steps=100)
    with pytest.raises(ValueError, match="policy 'categorical' needs a Discrete action space, "
                                         "got Box"):
        training.train(cfg)


def test_env_kwargs_that_gymnasium_rejects_is_one_clear_error():
    cfg = TrainConfig.for_env("Pendulum-v1", env_kwargs={"gravity": "strong", "wind": 3})
    with pytest.raises(ValueError, match=r"env_kwargs \{'gravity': 'strong', 'wind': 3\} are "
                                         r"not accepted by Pendulum-v1"):
        training.train(cfg)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan")])
def test_reward_scale_not_positive_is_one_clear_error(scale):
    with pytest.raises(ValueError, match=f"reward_scale must be a finite number > 0, got "
                                         f"{scale!r}"):
        TrainConfig.for_env("Acrobot-v1", reward_scale=scale)


def test_cli_trains_pendulum_with_its_defaults_and_refuses_a_bad_reward_scale(tmp_path):
    out = tmp_path / "pendulum"
    done = group_run([sys.executable, "-m", "a3c_lib", "train", "--env", "Pendulum-v1",
                      "--max-steps", "600", "--workers", "1", "--no-progress", "--no-keras",
                      "--out", str(out)], timeout=90)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["reward_scale"] == task_defaults("Pendulum-v1")["reward_scale"]
    assert summary["config"]["target_return"] == -200.0
    bad = group_run([sys.executable, "-m", "a3c_lib", "train", "--env", "Acrobot-v1",
                     "--reward-scale", "0"], timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == \
        "error: reward_scale must be a finite number > 0, got 0.0"


# ---- learning (slow): one per new task family, generous bounds ----------------------------

@pytest.mark.slow
@pytest.mark.timeout(120)
def test_acrobot_learns_with_its_scaled_rewards():
    # −1 per step family; the benchmark solves −100 in ~15–25k steps: −150 within 100k is generous
    result = training.train(TrainConfig.for_env("Acrobot-v1", workers=2, seed=0,
                                                target_return=-150.0, max_steps=100_000))
    assert result.summary["solved"], result.summary["final_mean_return"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_pendulum_gaussian_policy_learns():
    # continuous family; an untrained policy scores ≈ −1200 per episode, a solved one > −200.
    # Asynchronous runs differ from run to run: over 8 seeds (2026-12-02) the 100-episode mean
    # passed −1000 after 126k–184k steps, but −700 after 190k–340k steps or not within 600k
    # (CI once saw −783 at 300k). So the bound is −1000 with 2× the slowest seed's steps; the
    # swing-up itself (−200) is benchmarks/solve_tasks.py's business (issue 12).
    result = training.train(TrainConfig.for_env("Pendulum-v1", workers=2, seed=0,
                                                target_return=-1000.0, max_steps=400_000))
    assert result.summary["solved"], result.summary["final_mean_return"]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_lunarlander_learns_not_to_crash():
    # Box2D family; random play scores ≈ −200, the tuning runs passed −120 within ~70k steps
    result = training.train(TrainConfig.for_env("LunarLander-v3", workers=2, seed=0,
                                                target_return=-120.0, max_steps=150_000))
    assert result.summary["solved"], result.summary["final_mean_return"]



def test_checkpoint_resume_and_render_of_a_continuous_run(tmp_path):
    from a3c_lib.viz.render import evaluate_policy, record_episode

    small = dict(workers=1, envs_per_worker=2, t_max=5, hidden=(8,), target_return=None)
    first = training.train(TrainConfig.for_env("Pendulum-v1", max_steps=400, checkpoint_every=2,
                                               **small), out_dir=tmp_path)
    assert (tmp_path / "checkpoint.npz").is_file()
    second = training.train(TrainConfig.for_env("Pendulum-v1", max_steps=800, **small),
                            resume_from=tmp_path)
    assert isinstance(second.policy, GaussianPolicy)
    assert second.summary["global_steps"] >= 800 > first.summary["global_steps"]
    frames, total = record_episode(second.theta, "Pendulum-v1", max_steps=7, hidden=(8,))
    assert len(frames) == 7 and frames[0].ndim == 3 and np.isfinite(total)
    greedy = evaluate_policy(tmp_path / "weights.npz", "Pendulum-v1", greedy=True, episodes=2,
                             max_steps=20)
    assert greedy.lengths.tolist() == [20, 20] and np.isfinite(greedy.returns).all()
