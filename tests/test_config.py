"""TrainConfig validation: one clear ValueError per bad field, naming the field and its range."""

import dataclasses
import os
import shutil
import sys
from pathlib import Path

import pytest
from process_helpers import group_run

from a3c_lib.engine.config import FIELD_DOCS, TrainConfig, validate_env
from a3c_lib.engine.cpus import available_cpus, quota_cpus

ROOT = Path(__file__).resolve().parents[1]

BAD = [
    ("algo", "dqn", "algo must be one of a3c, a2c, ac, got 'dqn'"),
    ("env_id", "", "env_id must be a non-empty gymnasium id, got ''"),
    ("env_kwargs", [1], "env_kwargs must be a JSON object (a dict of str keys and JSON values), "
                        "got [1]"),
    ("env_kwargs", {"f": object}, "env_kwargs must be a JSON object (a dict of str keys and JSON "
                                  "values), got {'f': <class 'object'>}"),
    ("env_kwargs", {1: 2}, "env_kwargs must be a JSON object (a dict of str keys and JSON values), "
                           "got {1: 2}"),
    ("policy", "", "policy must be a non-empty name, got ''"),
    ("backend", None, "backend must be a non-empty name, got None"),
    ("ray_address", "auto", "ray_address must be None or a Ray address ('auto', 'HOST:PORT') "
                            "with backend='ray', got 'auto'"),
    ("ray_address", "auto", "ray_address must be None or a Ray address ('auto', 'HOST:PORT') with "
                            "backend='ray', got 'auto'"),
    ("workers", 0, "workers must be an integer >= 1, got 0"),
    ("workers", 2.5, "workers must be an integer >= 1, got 2.5"),
    ("envs_per_worker", 0, "envs_per_worker must be an integer >= 1, got 0"),
    ("t_max", 0, "t_max must be an integer >= 1, got 0"),
    ("t_max", True, "t_max must be an integer >= 1, got True"),
    ("gamma", 1.5, "gamma must be in [0, 1), got 1.5"),
    ("gamma", 1.0, "gamma must be in [0, 1), got 1.0"),
    ("gamma", -0.1, "gamma must be in [0, 1), got -0.1"),
    ("lr", "abc", "lr must be a finite number > 0, got 'abc'"),
    ("lr", 0.0, "lr must be a finite number > 0, got 0.0"),
    ("lr", float("nan"), "lr must be a finite number > 0, got nan"),
    ("lr", float("inf"), "lr must be a finite number > 0, got inf"),
    ("lr_schedule", "cosine", "lr_schedule must be one of constant, linear, got 'cosine'"),
    ("lr_schedule", None, "lr_schedule must be one of constant, linear, got None"),
    ("rms_alpha", 1.0, "rms_alpha must be in [0, 1), got 1.0"),
    ("rms_eps", 0.0, "rms_eps must be a finite number > 0, got 0.0"),
    ("entropy_coef", -0.01, "entropy_coef must be a finite number >= 0, got -0.01"),
    ("value_coef", -1, "value_coef must be a finite number >= 0, got -1"),
    ("max_grad_norm", 0, "max_grad_norm must be a finite number > 0, got 0"),
    ("hidden", (64, 0), "hidden must be a non-empty tuple of ints >= 1, got (64, 0)"),
    ("hidden", (), "hidden must be a non-empty tuple of ints >= 1, got ()"),
    ("hidden", 64, "hidden must be a non-empty tuple of ints >= 1, got 64"),
    ("seed", -1, "seed must be an integer >= 0, got -1"),
    ("max_steps", 0, "max_steps must be an integer >= 1, got 0"),
    ("target_return", float("nan"), "target_return must be a finite number or None, got nan"),
    ("checkpoint_every", -1, "checkpoint_every must be an integer >= 0, got -1"),
    ("reward_scale", 0.0, "reward_scale must be a finite number > 0, got 0.0"),
    ("reward_scale", -0.1, "reward_scale must be a finite number > 0, got -0.1"),
    ("reward_clip", 0, "reward_clip must be None or a finite number > 0, got 0"),
    ("sigma_init", 0.0, "sigma_init must be a finite number > 0.05, got 0.0"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_value_names_field_and_range(name, value, message):
    with pytest.raises(ValueError) as info:
        TrainConfig(**{name: value})
    assert str(info.value) == message


def test_every_field_is_documented_and_bad_inputs_cover_every_field():
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(FIELD_DOCS) == sorted(names)
    assert {b[0] for b in BAD} == set(names)


def test_defaults_are_valid_and_ints_become_floats():
    c = TrainConfig(gamma=0, lr=1, target_return=None)
    assert (c.gamma, c.lr, c.target_return) == (0.0, 1.0, None)
    assert isinstance(c.lr, float)


def test_ac_is_single_env():
    c = TrainConfig(algo="ac", workers=4, envs_per_worker=3)
    assert (c.workers, c.envs_per_worker, c.n_envs) == (1, 1, 1)


def test_dict_round_trip_and_unknown_key():
    c = TrainConfig(algo="a2c", hidden=(16,), target_return=None)
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({"gama": 0.9})


def test_more_workers_than_cpus_warns():
    n = available_cpus() + 1
    with pytest.warns(UserWarning, match=f"workers={n} > the {n - 1} CPU\\(s\\) this process may"):
        TrainConfig(workers=n)


PINNED = """
import warnings
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.cpus import available_cpus
from a3c_lib.viz.dashboard import TrainingDashboard
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    c = TrainConfig(workers=2)
slider = TrainingDashboard(TrainConfig(workers=1)).workers
print(available_cpus(), TrainConfig().workers, slider.max, [str(w.message) for w in caught])
"""


@pytest.mark.skipif(shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2,
                    reason="needs taskset and 2 CPUs")
def test_cpu_count_follows_the_affinity_mask_under_taskset():
    """Pinned to ONE core of a bigger host: 1 default worker, 2 warn, the slider shows few."""
    cpu = min(os.sched_getaffinity(0))
    out = group_run(["taskset", "-c", str(cpu), sys.executable, "-c", PINNED], timeout=120)
    assert out.returncode == 0, out.stderr
    n, default, slider_max, warned = out.stdout.strip().split(" ", 3)
    assert (n, default) == ("1", "1")
    assert int(slider_max) == 2  # twice the usable CPUs, not the host's
    assert "workers=2 > the 1 CPU(s) this process may use" in warned


@pytest.mark.parametrize(("v2", "quota", "period", "cpus"), [
    ("max 100000", None, None, None), ("200000 100000", None, None, 2),
    ("50000 100000", None, None, 1), ("250000 100000", None, None, 3),
    (None, "-1", "100000", None), (None, "300000", "100000", 3), (None, None, None, None),
])
def test_cgroup_quota_is_read_for_v1_and_v2(v2, quota, period, cpus):
    assert quota_cpus(v2, quota, period) == cpus


def test_validate_env():
    assert validate_env("CartPole-v1") == (4, 2)
    with pytest.raises(ValueError, match="'CartPole-v9' is not a registered gymnasium env"):
        validate_env("CartPole-v9")
    with pytest.raises(ValueError, match="A3C here supports discrete actions; Pendulum-v1 has a "
                                         "Box action space"):
        validate_env("Pendulum-v1")
    with pytest.raises(ValueError, match="1-D Box observations; FrozenLake-v1"):
        validate_env("FrozenLake-v1")
