"""Issue 6, faults: a killed or hung worker, Stop at odd moments, Ctrl-C (twice), NaN, a crashed
CLI run, a writer killed mid-checkpoint — each ends cleanly, reports clearly, leaves nothing behind.

Complements test_training.py (a raising/NaN/exiting worker, one Ctrl-C in ``train()``, one kill
mid-checkpoint, resume of a finished run) and test_cli.py (one Ctrl-C in the CLI).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from process_helpers import spawned_children

from a3c_lib.engine import training
from a3c_lib.engine.checkpoint import load_checkpoint, save_checkpoint
from a3c_lib.engine.config import TrainConfig

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(hidden=(16,), target_return=None, max_steps=10**9)
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def shm_names() -> set[str]:
    """POSIX shared memory blocks (psm_*) and named semaphores (sem.*) that exist now."""
    return {n for n in os.listdir("/dev/shm") if n.startswith(("psm_", "sem."))}


def our_names(run) -> set[str]:
    """/dev/shm names of ``run`` (call while it runs): its shared block and the named semaphores
    behind its mp.Lock, mp.Event and mp.Queue. Other processes on this machine create such names
    too, so the tests only ever look for these."""
    found, todo = {run._shared.handle.name.lstrip("/")}, [run._lock, run._stop, run._queue]
    for _ in range(4):  # the semaphores sit a few attributes deep (Event -> Condition -> Lock)
        todo = [v for obj in todo for v in getattr(obj, "__dict__", {}).values()]
        found |= {"sem." + v.name.lstrip("/") for v in todo
                  if type(v).__name__ == "SemLock" and getattr(v, "name", None)}
    assert len(found) >= 5 and found <= shm_names()  # the walk found them: they exist now
    return found


class Leaks:
    """Snapshot the threads; ``check(names)``: no new thread, no worker process, none of the
    run's /dev/shm names left."""

    def __init__(self):
        self.threads = set(threading.enumerate())

    def check(self, names=frozenset()):
        assert spawned_children() == []
        assert [t.name for t in threading.enumerate() if t not in self.threads] == []
        assert set(names) & shm_names() == set()


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_a_worker_killed_by_sigkill_is_reported_within_a_second():
    leaks = Leaks()
    run = training.start(TrainConfig(**SMALL))
    names = our_names(run)
    assert wait_until(lambda: run.global_step > 1000, 30)
    victim = run._procs[1].pid
    t = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: run.error is not None, 5)
    assert time.monotonic() - t < 1.0
    assert run.error == ("worker 1 failed:\nits process exited with code -9 without reporting an "
                         "error (killed? out of memory?)")
    result = run.wait(timeout=5)
    assert time.monotonic() - t < 2.5  # the other worker stopped, everything cleaned
    assert result.summary["stopped_by"] == "error" and np.isfinite(result.theta).all()
    leaks.check(names)


def test_a_hung_worker_does_not_hang_stop(monkeypatch):
    leaks = Leaks()
    monkeypatch.setenv("A3C_FAULT_INJECT", "worker:1:after_updates:3:hang")
    run = training.start(TrainConfig(**SMALL))
    names, hung = our_names(run), run._procs[1]
    assert wait_until(lambda: run.global_step > 3000, 30)  # worker 0 trains on alone
    t = time.monotonic()
    run.stop()
    assert run.wait(timeout=5) is not None
    assert time.monotonic() - t < 2.5  # 1 s join, then SIGTERM
    assert hung.exitcode == -signal.SIGTERM and run._procs[0].exitcode == 0
    assert run.error is None
    leaks.check(names)


def test_stop_before_the_workers_are_up_stop_twice_then_start_again():
    leaks = Leaks()
    t = time.monotonic()
    run = training.start(TrainConfig(**SMALL))
    names = our_names(run)
    run.stop()  # the workers are still importing numpy and gymnasium
    run.stop()
    result = run.wait(timeout=10)
    assert time.monotonic() - t < 3.0
    assert result.summary["stopped_by"] == "stop" and run.error is None
    leaks.check(names)
    again = training.start(TrainConfig(**SMALL))  # the slot is free again
    names = our_names(again)
    assert wait_until(lambda: again.global_step > 0, 30)
    again.stop()
    again.stop()
    assert again.wait(timeout=5).summary["stopped_by"] == "stop"
    leaks.check(names)


@pytest.mark.parametrize(("lr", "fault", "bad"), [
    (3e-3, "worker:0:after_updates:2:nan", "non-finite gradient in worker 0 at its update 3"),
    (1e300, None, "non-finite total, value_loss, gradient in worker"),  # a real blow-up
])
def test_non_finite_loss_stops_the_run_and_theta_stays_finite(monkeypatch, lr, fault, bad):
    if fault:
        monkeypatch.setenv("A3C_FAULT_INJECT", fault)
    run = training.start(TrainConfig(**{**SMALL, "lr": lr}))
    result = run.wait(timeout=40)
    assert result is not None and result.summary["stopped_by"] == "error"
    assert bad in run.error and "FloatingPointError" in run.error
    assert "this update was NOT applied to the shared parameters" in run.error
    assert np.isfinite(result.theta).all()  # the shared network is not poisoned


def test_ctrl_c_twice_in_train_still_cleans_up(monkeypatch):
    # a hung worker makes the clean-up last ~1 s (join, then SIGTERM): the second Ctrl-C lands
    # in the middle of it, as when an impatient student presses Stop again
    monkeypatch.setenv("A3C_FAULT_INJECT", "worker:1:after_updates:3:hang")
    leaks = Leaks()
    runs = []
    original = training.start

    def remember(*args, **kwargs):
        run = original(*args, **kwargs)
        runs.append((run, our_names(run)))
        return run

    def interrupt_twice():
        wait_until(lambda: runs and runs[0][0].global_step > 2000, 30)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(training, "start", remember)
    timer = threading.Thread(target=interrupt_twice)
    timer.start()
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        training.train(TrainConfig(**SMALL))
    timer.join()
    run, names = runs[0]
    assert run.result is not None and not run.running  # returned only after the clean-up
    assert run._procs[1].exitcode == -signal.SIGTERM  # the hung worker was terminated
    assert time.monotonic() - t < 30
    leaks.check(names)


def _cli(*args, env=ENV, **popen):
    return subprocess.Popen([sys.executable, "-m", "a3c_lib", "train", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_cli_ctrl_c_twice_exits_130_and_leaves_no_process(tmp_path):
    out = tmp_path / "run"
    # a hung worker makes the clean-up last ~1 s, so the second Ctrl-C lands in it
    proc = _cli("--max-steps", "1000000000", "--hidden", "16", "--target-return", "none",
                "--no-progress", "--no-keras", "--out", str(out), start_new_session=True,
                env={**ENV, "A3C_FAULT_INJECT": "worker:1:after_updates:3:hang"})
    parent = psutil.Process(proc.pid)
    assert wait_until(lambda: len(parent.children()) >= 3, 30)  # 2 workers + resource tracker
    children = parent.children(recursive=True)
    time.sleep(1.0)  # training for a while
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # impatient: again, during the clean-up
    t = time.monotonic()
    _, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - t < 3.0
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted: training stopped after ")
    assert "Traceback" not in stderr
    _, alive = psutil.wait_procs(children, timeout=3)
    assert alive == []  # no orphan: workers and the resource tracker are gone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "stop" and summary["global_steps"] > 0
    assert (out / "metrics.csv").is_file() and (out / "weights.npz").is_file()


def test_cli_worker_failure_prints_its_traceback_and_exits_1(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "a3c_lib", "train", "--hidden", "16", "--target-return", "none",
         "--max-steps", "1000000000", "--no-progress", "--no-keras", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=50,
        env={**ENV, "A3C_FAULT_INJECT": "worker:1:after_updates:3"})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: worker 1 failed:"
    assert lines[1] == "Traceback (most recent call last):"
    assert "RuntimeError: fault injected by A3C_FAULT_INJECT" in lines
    assert lines[-1] == f"error: training failed; partial results in {out}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "error" and summary["worker_updates"][1] == 3


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from a3c_lib.engine.checkpoint import save_checkpoint
    out, first = sys.argv[1], int(sys.argv[2])
    big = np.random.default_rng(first).normal(size=1_000_000)   # 8 MB per array
    i = first
    while True:
        save_checkpoint(out, big + i, big, step=i, updates=i, config={"i": i})
        print(i, flush=True)
        i += 1
""")


def test_checkpoint_writer_killed_many_times_always_leaves_a_loadable_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    last_step, mid_write = -1, 0
    for kill in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(100 * kill)],
                                stdout=subprocess.PIPE, text=True, env=ENV)
        proc.stdout.readline()  # one save done: the next is under way
        time.sleep(rng.uniform(0.0, 0.15))  # kill at a random point of a later save
        proc.kill()
        proc.wait()
        proc.stdout.close()
        mid_write += bool(list(tmp_path.glob("*.tmp")))  # killed inside a save: its temp file
        ck = load_checkpoint(tmp_path)
        assert ck.step >= 100 * kill > last_step  # this writer's save, complete
        assert ck.theta[0] - ck.rms_g[0] == pytest.approx(ck.step)  # theta and g of one save
        assert ck.config == {"i": ck.step}
        assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] >= 100 * kill
        last_step = ck.step
    assert mid_write >= 1  # at least one kill really landed mid-save
    save_checkpoint(tmp_path, np.zeros(3), np.zeros(3), step=1, updates=1, config={})
    assert list(tmp_path.glob("*.tmp")) == []  # the killed writers' temp files are cleared


def test_cli_run_killed_with_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc = _cli("--algo", "a2c", "--workers", "2", "--envs-per-worker", "1", "--t-max", "5",
                "--checkpoint-every", "20", "--max-steps", "1000000000", "--hidden", "16",
                "--target-return", "none", "--no-progress", "--no-keras", "--out", str(out))
    facts = out / "checkpoint.json"
    assert wait_until(lambda: facts.is_file() and json.loads(facts.read_text())["updates"] >= 40,
                      40)
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()  # SIGKILL: no clean-up, no final save
    proc.communicate()
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []  # the workers noticed their parent died
    ck = load_checkpoint(out)
    assert ck.updates >= 40 and ck.step == 10 * ck.updates  # a2c: 2 envs x t_max 5 per update
    resumed = training.train(TrainConfig.from_dict({**ck.config, "max_steps": ck.step + 500}),
                             resume_from=out)
    s = resumed.summary
    assert s["global_steps"] == ck.step + 500 and s["updates"] == ck.updates + 50
    assert not np.array_equal(resumed.theta, ck.theta)


def test_a_script_without_a_main_guard_gets_a_clear_message_not_a_hang(tmp_path):
    """Spawned workers re-import the user's script; without the guard they die while starting."""
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent("""
        from a3c_lib.engine.config import TrainConfig
        from a3c_lib.engine.training import train
        train(TrainConfig(max_steps=5000, target_return=None))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=50, cwd=tmp_path)
    assert done.returncode != 0
    assert 'put the training call under `if __name__ == "__main__":`' in done.stderr
