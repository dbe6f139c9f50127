"""The runtime: workers really run and update, stop/faults/NaN end cleanly, checkpoints, seeds."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import psutil
import pytest
from fault_envs import fault
from process_helpers import spawned_children

from a3c_lib.engine import training
from a3c_lib.engine.checkpoint import load_checkpoint, save_checkpoint
from a3c_lib.engine.config import TrainConfig
from a3c_lib.nn import mlp

pytestmark = pytest.mark.timeout(90)
SMALL = dict(hidden=(16,), target_return=None)


def assert_clean(threads_before):
    assert spawned_children() == []
    extra = [t.name for t in threading.enumerate() if t not in threads_before]
    assert extra == []


def test_a3c_workers_all_apply_updates_to_the_global_theta():
    threads = set(threading.enumerate())
    cfg = TrainConfig(workers=2, envs_per_worker=2, t_max=5, max_steps=3000, seed=3, **SMALL)
    result = training.train(cfg)
    s = result.summary
    assert len(s["worker_updates"]) == 2 and min(s["worker_updates"]) > 0
    assert s["updates"] == sum(s["worker_updates"])
    assert s["global_steps"] == s["updates"] * cfg.t_max * cfg.envs_per_worker >= 3000
    assert s["stopped_by"] == "max_steps" and s["error"] is None
    spec = mlp.MLPSpec(4, 2, cfg.hidden)
    theta0 = mlp.init_theta(spec, np.random.default_rng(3))
    assert result.theta.shape == theta0.shape and not np.allclose(result.theta, theta0)
    updates = result.metrics.updates
    assert {u.worker for u in updates} == {0, 1} and len(updates) == s["updates"]
    assert all(u.policy_lag >= 0 and np.isfinite(u.grad_norm) for u in updates)
    assert {e.worker for e in result.metrics.episodes} == {0, 1}
    assert_clean(threads)


def test_stop_ends_within_a_second_and_leaves_nothing_behind():
    threads = set(threading.enumerate())
    calls = []
    run = training.start(TrainConfig(max_steps=10**9, **SMALL), on_metrics=calls.append)
    assert run.running
    deadline = time.monotonic() + 30
    while run.global_step < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    t = time.monotonic()
    run.stop()
    result = run.wait(timeout=5)
    assert time.monotonic() - t < 1.5  # 1 s join + margin for a loaded CI machine
    assert result is not None and not run.running
    assert result.summary["stopped_by"] == "stop" and run.error is None
    assert calls and calls[-1] is run.metrics
    run.stop()  # idempotent
    assert_clean(threads)


def test_second_run_is_refused_and_set_lr_takes_effect():
    run = training.start(TrainConfig(max_steps=10**9, **SMALL))
    try:
        with pytest.raises(RuntimeError, match="already running; call run.stop"):
            training.start(TrainConfig(**SMALL))
        with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1"):
            run.set_lr(-1)
        run.set_lr(1.5e-4)
        seen = len(run.metrics.updates)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
                u.lr == 1.5e-4 for u in run.metrics.updates[seen:]):
            time.sleep(0.05)
        assert any(u.lr == 1.5e-4 for u in run.metrics.updates[seen:])
    finally:
        run.stop()
        run.wait()


@pytest.mark.parametrize(("worker", "after", "mode", "expected"), [
    (1, 3, "raise", "RuntimeError: fault injected by fault_envs"),
    (0, 2, "nan", "value_loss, gradient in worker 0 at its update 3"),
    (1, 2, "exit", "its process exited with code 3 without reporting"),
])
def test_worker_fault_stops_the_run_with_its_traceback(worker, after, mode, expected):
    threads = set(threading.enumerate())
    with pytest.raises(RuntimeError) as info:
        training.train(TrainConfig(max_steps=10**9, **SMALL, **fault(worker, after, mode)))
    message = str(info.value)
    assert message.startswith(f"worker {worker} failed:\n") and expected in message
    if mode != "exit":
        assert "Traceback (most recent call last)" in message
    if mode == "nan":
        assert "non-finite" in message and "NOT applied to the shared parameters" in message
    assert_clean(threads)


def test_keyboard_interrupt_in_train_stops_cleanly():
    threads = set(threading.enumerate())
    timer = threading.Timer(3.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        training.train(TrainConfig(max_steps=10**9, **SMALL))
    assert time.monotonic() - t < 3.0 + 1.5
    timer.join()
    assert_clean(threads)


@pytest.mark.parametrize(("algo", "steps"), [("ac", 1500), ("a2c", 3000)])
def test_seeded_ac_and_a2c_are_reproducible(algo, steps):
    cfg = TrainConfig(algo=algo, workers=2, envs_per_worker=2, max_steps=steps, seed=5, **SMALL)
    a, b = training.train(cfg), training.train(cfg)
    returns = a.metrics.episode_returns()
    assert len(returns) > 10
    np.testing.assert_array_equal(returns, b.metrics.episode_returns())
    np.testing.assert_array_equal(a.theta, b.theta)
    other = training.train(TrainConfig.from_dict({**cfg.to_dict(), "seed": 6}))
    assert not np.array_equal(a.theta, other.theta)


def test_checkpoint_round_trip(tmp_path):
    theta, g = np.random.default_rng(0).normal(size=(2, 50))
    config = TrainConfig(lr=3e-4).to_dict()
    save_checkpoint(tmp_path, theta, g, step=1234, updates=56, config=config)
    ck = load_checkpoint(tmp_path / "checkpoint.npz")
    np.testing.assert_array_equal(ck.theta, theta)
    np.testing.assert_array_equal(ck.rms_g, g)
    assert (ck.step, ck.updates) == (1234, 56) and TrainConfig.from_dict(ck.config).lr == 3e-4
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")


def test_checkpoint_killed_mid_write_leaves_the_previous_one(tmp_path):
    save_checkpoint(tmp_path, np.zeros(10), np.zeros(10), step=1, updates=1, config={})
    script = textwrap.dedent(f"""
        import numpy as np
        from a3c_lib.engine.checkpoint import save_checkpoint
        big = np.random.default_rng(0).normal(size=3_000_000)   # 24 MB per array
        i = 2
        while True:
            save_checkpoint({str(tmp_path)!r}, big + i, big, step=i, updates=i, config={{}})
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the writer is in its loop for sure
            facts = json.loads((tmp_path / "checkpoint.json").read_text())
            if facts["step"] >= 3:
                break
            time.sleep(0.05)
        time.sleep(0.15)  # a 48 MB save + fsync takes longer: the kill lands mid-write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert facts["step"] >= 3
    ck = load_checkpoint(tmp_path)  # loads: a complete checkpoint, never half a file
    assert ck.theta.shape == (3_000_000,) and ck.step >= 3
    assert ck.theta[0] - ck.rms_g[0] == pytest.approx(ck.step)  # theta and g of the same save


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    cfg = TrainConfig(algo="a2c", workers=2, envs_per_worker=1, t_max=5, max_steps=1000,
                      checkpoint_every=20, **SMALL)
    first = training.train(cfg, out_dir=tmp_path)
    ck = load_checkpoint(tmp_path)
    assert ck.step == first.summary["global_steps"] and ck.updates == first.summary["updates"]
    np.testing.assert_array_equal(ck.theta, first.theta)
    for name in ("metrics.csv", "summary.json", "weights.npz", "checkpoint.json"):
        assert (tmp_path / name).is_file()
    more = TrainConfig.from_dict({**cfg.to_dict(), "max_steps": 2000})
    second = training.train(more, resume_from=tmp_path)
    assert second.summary["global_steps"] == 2000
    assert second.summary["updates"] == 2000 // 10
    with pytest.raises(ValueError, match="parameters; this config's network needs"):
        training.train(TrainConfig.from_dict({**more.to_dict(), "hidden": [8]}),
                       resume_from=tmp_path)


def test_workers_exit_when_their_parent_is_killed():
    script = textwrap.dedent("""
        import time
        from a3c_lib.engine import training
        from a3c_lib.engine.config import TrainConfig
        if __name__ == "__main__":
            run = training.start(TrainConfig(max_steps=10**9, hidden=(16,), target_return=None))
            while run.global_step < 500:
                time.sleep(0.05)
            print(*[p.pid for p in run._backend._procs], flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(x) for x in proc.stdout.readline().split()]
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs in the parent
        proc.wait()
    assert len(pids) == 2
    workers = [psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


def test_fault_stops_the_other_workers_within_a_second():
    threads = set(threading.enumerate())
    run = training.start(TrainConfig(max_steps=10**9, **SMALL, **fault(1, 5)))
    deadline = time.monotonic() + 60
    while run.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    t_error = time.monotonic()
    assert run.error is not None and run.error.startswith("worker 1 failed:\n")
    result = run.wait(timeout=10)
    assert time.monotonic() - t_error < 1.5  # worker 0 stopped, everything joined and cleaned
    assert result.summary["stopped_by"] == "error" and result.summary["worker_updates"][1] == 5
    assert_clean(threads)


def test_failing_callback_stops_the_run_and_progress_bar_works(capsys):
    def callback(log):
        if log.n_episodes:
            raise ZeroDivisionError("bad plot")

    with pytest.raises(RuntimeError, match="on_metrics callback failed:(.|\n)*ZeroDivisionError"):
        training.train(TrainConfig(max_steps=10**9, **SMALL), on_metrics=callback, progress=True)
    assert "a3c:" in capsys.readouterr().err  # the tqdm bar, on stderr
