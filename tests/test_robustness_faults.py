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

import numpy as np
import psutil
import pytest
from fault_envs import FAULT_ID, fault
from process_helpers import group_popen, group_run, kill_group, spawned_children

from a3c_lib.engine import training
from a3c_lib.engine.checkpoint import load_checkpoint, save_checkpoint
from a3c_lib.engine.config import TrainConfig

pytestmark = pytest.mark.timeout(120)
SMALL = dict(hidden=(16,), target_return=None, max_steps=10**9)
# Time bounds below are about "ends instead of hanging" (1 s join, then SIGTERM), kept generous
# so that they hold with a CPU hog busy on one core; the tests WAIT on events, never on sleeps.


def shm_names() -> set[str]:
    """POSIX shared memory blocks (psm_*) and named semaphores (sem.*) that exist now."""
    return {n for n in os.listdir("/dev/shm") if n.startswith(("psm_", "sem."))}


def our_names(run) -> set[str]:
    """/dev/shm names of ``run`` (call while it runs): its shared block and the named semaphore
    behind its mp.Lock (its messages travel through pipes, which have no name). Other processes
    on this machine create such names too, so the tests only ever look for these."""
    b = run._backend
    found = {b._shared.handle.name.lstrip("/"), "sem." + b._lock._semlock.name.lstrip("/")}
    assert found <= shm_names()  # they exist now
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
    assert wait_until(lambda: run.global_step > 1000, 60)
    victim = run._backend._procs[1].pid
    t = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: run.error is not None, 10)
    assert time.monotonic() - t < 5.0  # the monitor looks every ~0.05 s
    assert run.error == ("worker 1 failed:\nits process exited with code -9 without reporting an "
                         "error (killed? out of memory?)")
    result = run.wait(timeout=10)
    assert result.summary["stopped_by"] == "error" and np.isfinite(result.theta).all()
    leaks.check(names)


def test_a_hung_worker_does_not_hang_stop(tmp_path):
    leaks = Leaks()
    flag = tmp_path / "hung"
    run = training.start(TrainConfig(**{**SMALL, **fault(1, 3, "hang", flag=flag)}))
    names, hung = our_names(run), run._backend._procs[1]
    assert wait_until(flag.exists, 60)  # worker 1 is hanging now, for sure
    step = run.global_step
    assert wait_until(lambda: run.global_step > step + 1000, 60)  # worker 0 trains on alone
    run.stop()
    assert run.wait(timeout=15) is not None  # 1 s join, then SIGTERM
    assert hung.exitcode == -signal.SIGTERM and run._backend._procs[0].exitcode == 0
    assert run.error is None
    leaks.check(names)


def test_a_hung_worker_does_not_hang_a_run_whose_step_budget_is_spent(tmp_path):
    """Defect 2: the run ends once the global budget is spent, terminating the straggler.
    (Before the fix the monitor waited for every worker's "done" and the run never ended.)"""
    leaks = Leaks()
    flag = tmp_path / "hung"
    # worker 0 starts stepping only once worker 1 hangs: the budget is spent with it hung
    run = training.start(TrainConfig(**{**SMALL, "max_steps": 4000,
                                        **fault(1, 2, "hang", flag=flag, wait_for=flag)}))
    names, hung = our_names(run), run._backend._procs[1]
    result = run.wait(timeout=60)
    assert result is not None, "the run did not end although its step budget was spent"
    assert flag.exists()  # worker 1 really hung
    s = result.summary
    assert s["stopped_by"] == "max_steps" and run.error is None
    assert s["global_steps"] >= 4000 and s["worker_updates"][1] == 2
    assert hung.exitcode == -signal.SIGTERM
    leaks.check(names)


def test_a_worker_dead_while_holding_the_lock_does_not_block_checkpointing(tmp_path):
    """Defect 5: with checkpoints on, the monitor never waits on the workers' lock without a
    timeout. The test itself holds the lock (as a worker killed inside its update would) and
    kills a worker: the run must still notice, stop and end."""
    leaks = Leaks()
    run = training.start(TrainConfig(**{**SMALL, "checkpoint_every": 1}), out_dir=tmp_path)
    names = our_names(run)
    lock = run._backend._lock
    assert wait_until(lambda: (tmp_path / "checkpoint.json").exists(), 60)
    assert lock.acquire(timeout=30)
    try:
        # a checkpoint is due now (as when updates were reported and then a worker was killed
        # inside its next update): the monitor tries to take the lock for it
        run._last_checkpoint -= 10**6
        os.kill(run._backend._procs[1].pid, signal.SIGKILL)
        result = run.wait(timeout=30)
        assert result is not None, "the monitor blocked on a lock that is never released"
        assert result.summary["stopped_by"] == "error" and "worker 1 failed" in run.error
    finally:
        lock.release()
        del lock  # our reference kept its named semaphore alive
    ck = load_checkpoint(tmp_path)  # the final checkpoint is complete
    assert ck.step == result.summary["global_steps"]
    leaks.check(names)


@pytest.mark.parametrize("mode", ["exit_holding_locks", "exit_mid_message"])
def test_a_worker_dying_inside_a_lock_or_a_message_does_not_hang_the_parent(tmp_path, mode):
    """A SIGKILL can land anywhere: inside every lock the worker shares with the parent (the
    stop flag's, the message channel's, θ's) or halfway through a message. The parent must never
    wait on such a lock without a timeout nor on the rest of a message from a dead worker: the
    run reports the death, ends, and the other worker is terminated (it may be blocked on θ's
    lock for good). (Before the fix, the parent blocked forever in ``stop.set()`` — an mp.Event
    has a lock inside — or in reading the queue; SIGALRM could not even interrupt it.)"""
    leaks = Leaks()
    run = training.start(TrainConfig(**{**SMALL, "checkpoint_every": 1, **fault(1, 20, mode)}),
                         out_dir=tmp_path)
    names = our_names(run)
    result = run.wait(timeout=60)
    assert result is not None, "the parent hung on what the dead worker left behind"
    assert run.error == ("worker 1 failed:\nits process exited with code 3 without reporting "
                         "an error (killed? out of memory?)")
    assert result.summary["stopped_by"] == "error" and np.isfinite(result.theta).all()
    assert load_checkpoint(tmp_path).step == result.summary["global_steps"]
    leaks.check(names)


def test_checkpoints_are_consistent_snapshots(tmp_path, monkeypatch):
    """Defect 3: every checkpoint's counters and θ come from ONE locked snapshot: each update
    adds exactly envs × t_max steps, so step == updates × envs × t_max in every checkpoint."""
    import a3c_lib.engine.run as run_module

    saved = []
    original = run_module.save_checkpoint

    def remember(out_dir, theta, g, step, updates, config):
        saved.append((step, updates))
        return original(out_dir, theta, g, step, updates, config)

    monkeypatch.setattr(run_module, "save_checkpoint", remember)
    cfg = TrainConfig(**{**SMALL, "checkpoint_every": 1, "envs_per_worker": 1, "t_max": 1,
                         "hidden": (4,)})
    run = training.start(cfg, out_dir=tmp_path)
    assert wait_until(lambda: len(saved) >= 200, 60)
    run.stop()
    run.wait(timeout=15)
    assert all(step == updates * cfg.envs_per_worker * cfg.t_max for step, updates in saved)


def test_stop_before_the_workers_are_up_stop_twice_then_start_again():
    leaks = Leaks()
    run = training.start(TrainConfig(**SMALL))
    names = our_names(run)
    run.stop()  # the workers are still importing numpy and gymnasium
    run.stop()
    result = run.wait(timeout=15)
    assert result.summary["stopped_by"] == "stop" and run.error is None
    leaks.check(names)
    again = training.start(TrainConfig(**SMALL))  # the slot is free again
    names = our_names(again)
    assert wait_until(lambda: again.global_step > 0, 60)
    again.stop()
    again.stop()
    assert again.wait(timeout=15).summary["stopped_by"] == "stop"
    leaks.check(names)


@pytest.mark.parametrize(("lr", "faulty", "bad"), [
    (3e-3, True, "value_loss, gradient in worker 0 at its update 3"),
    (1e300, False, "non-finite total, value_loss, gradient in worker"),  # a real blow-up
])
def test_non_finite_loss_stops_the_run_and_theta_stays_finite(lr, faulty, bad):
    cfg = {**SMALL, "lr": lr, **(fault(0, 2, "nan") if faulty else {})}
    run = training.start(TrainConfig(**cfg))
    result = run.wait(timeout=60)
    assert result is not None and result.summary["stopped_by"] == "error"
    assert bad in run.error and "FloatingPointError" in run.error
    assert "this update was NOT applied to the shared parameters" in run.error
    assert np.isfinite(result.theta).all()  # the shared network is not poisoned


def test_ctrl_c_twice_in_train_still_cleans_up(monkeypatch, sigint_raises, tmp_path):
    """A hung worker makes the clean-up last ~1 s (join, then SIGTERM); a second Ctrl-C lands
    IN it, as when an impatient student presses Stop again. Both Ctrl-C's are delivered at
    moments the test controls: the first once worker 1 hangs, the second from inside the clean-
    up's first wait (so it can never arrive after train() has returned)."""
    leaks = Leaks()
    flag = tmp_path / "hung"
    runs = []
    original_start = training.start

    def remember(*args, **kwargs):
        run = original_start(*args, **kwargs)
        original_wait = run.wait
        runs.append((run, our_names(run)))

        def wait(timeout=None):
            if run._stop_requested.is_set() and not getattr(run, "_second", False):
                run._second = True
                signal.raise_signal(signal.SIGINT)  # Ctrl-C again, during the clean-up
            return original_wait(timeout)

        run.wait = wait
        return run

    def interrupt_once_hung():
        if wait_until(flag.exists, 60) and runs[0][0].running:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(training, "start", remember)
    timer = threading.Thread(target=interrupt_once_hung)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            training.train(TrainConfig(**{**SMALL, **fault(1, 3, "hang", flag=flag)}))
    finally:
        timer.join()
    run, names = runs[0]
    assert run._second  # the second Ctrl-C really came during the clean-up
    assert run.result is not None and not run.running  # returned only after the clean-up
    assert run._backend._procs[1].exitcode == -signal.SIGTERM  # the hung worker was terminated
    leaks.check(names)


def _cli(*args, **popen):
    return group_popen([sys.executable, "-m", "a3c_lib", "train", *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def _hang_flags(flag, worker=1, after=3):
    kwargs = json.dumps(fault(worker, after, "hang", flag=flag)["env_kwargs"])
    return ["--env", FAULT_ID, "--env-kwargs", kwargs]


def test_cli_ctrl_c_twice_exits_130_and_leaves_no_process(tmp_path):
    out, flag = tmp_path / "run", tmp_path / "hung"
    # a hung worker makes the clean-up last ~1 s, so the second Ctrl-C lands in it
    with _cli("--max-steps", "1000000000", "--hidden", "16", "--target-return", "none",
              "--no-progress", "--no-keras", "--out", str(out), *_hang_flags(flag)) as proc:
        assert wait_until(flag.exists, 60)  # training, and worker 1 hangs
        children = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole group
        time.sleep(0.3)  # (if it already ended, the next Ctrl-C reaches nobody: still valid)
        os.killpg(proc.pid, signal.SIGINT)  # impatient: again, during the clean-up
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert stderr.strip().splitlines()[-1].startswith("interrupted: training stopped after ")
        assert "Traceback" not in stderr
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []  # no orphan: workers and the resource tracker are gone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "stop" and summary["global_steps"] > 0
    assert (out / "metrics.csv").is_file() and (out / "weights.npz").is_file()


def test_cli_sigterm_writes_partial_results_and_exits_143(tmp_path):
    """Defect 6: SIGTERM (kill, a job scheduler) ends the run like Ctrl-C, with its results."""
    out = tmp_path / "run"
    with _cli("--max-steps", "1000000000", "--hidden", "16", "--target-return", "none",
              "--no-progress", "--no-keras", "--checkpoint-every", "5", "--out",
              str(out)) as proc:
        assert wait_until(lambda: (out / "checkpoint.json").is_file(), 60)  # training for sure
        proc.terminate()  # SIGTERM to the CLI process only
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 143, stderr
        assert stderr.strip().splitlines()[-1].startswith("terminated: training stopped after ")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "stop" and summary["global_steps"] > 0
    assert (out / "metrics.csv").is_file() and (out / "weights.npz").is_file()
    assert load_checkpoint(out).step == summary["global_steps"]


def test_cli_worker_failure_prints_its_traceback_and_exits_1(tmp_path):
    out = tmp_path / "run"
    kwargs = json.dumps(fault(1, 3)["env_kwargs"])
    proc = group_run(
        [sys.executable, "-m", "a3c_lib", "train", "--hidden", "16", "--target-return", "none",
         "--env", FAULT_ID, "--env-kwargs", kwargs, "--max-steps", "1000000000",
         "--no-progress", "--no-keras", "--out", str(out)], timeout=100)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: worker 1 failed:"
    assert lines[1] == "Traceback (most recent call last):"
    assert "RuntimeError: fault injected by fault_envs" in lines
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
    last_step, mid_write, kill = -1, 0, 0
    # kill at random points of later saves until at least one kill landed mid-save (its temp
    # file is left); each round checks that the checkpoint on disk is complete
    while kill < 8 or (mid_write == 0 and kill < 40):
        with group_popen([sys.executable, "-c", WRITER, str(tmp_path), str(100 * kill)],
                         stdout=subprocess.PIPE, text=True) as proc:
            proc.stdout.readline()  # one save done: the next is under way
            time.sleep(rng.uniform(0.0, 0.15))
            kill_group(proc)
        mid_write += bool(list(tmp_path.glob("*.tmp")))  # killed inside a save: its temp file
        ck = load_checkpoint(tmp_path)
        assert ck.step >= 100 * kill > last_step  # this writer's save, complete
        assert ck.theta[0] - ck.rms_g[0] == pytest.approx(ck.step)  # theta and g of one save
        assert ck.config == {"i": ck.step}
        assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] >= 100 * kill
        last_step, kill = ck.step, kill + 1
    assert mid_write >= 1  # at least one kill really landed mid-save
    save_checkpoint(tmp_path, np.zeros(3), np.zeros(3), step=1, updates=1, config={})
    assert list(tmp_path.glob("*.tmp")) == []  # the killed writers' temp files are cleared


def test_cli_run_killed_with_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    with _cli("--algo", "a2c", "--workers", "2", "--envs-per-worker", "1", "--t-max", "5",
              "--checkpoint-every", "20", "--max-steps", "1000000000", "--hidden", "16",
              "--target-return", "none", "--no-progress", "--no-keras", "--out",
              str(out)) as proc:
        facts = out / "checkpoint.json"
        assert wait_until(lambda: facts.is_file() and
                          json.loads(facts.read_text())["updates"] >= 40, 60)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()  # SIGKILL of the CLI alone: no clean-up, no final save
        proc.communicate()
        _, alive = psutil.wait_procs(workers, timeout=10)
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
    done = group_run([sys.executable, str(script)], timeout=100, cwd=tmp_path)
    assert done.returncode != 0
    assert 'put the training call under `if __name__ == "__main__":`' in done.stderr
