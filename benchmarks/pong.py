"""How long does A3C take to learn Pong from pixels on this machine? (goal <= 60 min, 2 workers)

Three measurements, in this order (each can be skipped):

1. **time split of one worker** (``--split-seconds``): the worker's loop run in THIS process, with
   TensorFlow pinned to one thread as in a worker, timed part by part: env steps, forward passes
   (act/value), writing θ' into the model, the gradient, the locked pull + RMSProp push, the rest;
2. **throughput** (``--throughput-seconds``) of the real trainer with 1 and 2 workers: env
   (agent) steps/s once all workers run, and the peak resident memory of each worker process;
3. **the run** (``--minutes``): 2 workers train until the mean return of the last 10 training
   episodes reaches 18; prints the wall time and agent steps to get there. Progress lines go to
   ``OUT/pong/progress.txt`` as the run goes; ``OUT/pong`` gets what notebook 10 shows (with
   ``--out data``: the course's cached run, as ``python -m a3c_lib reproduce pong`` makes it).

    python3 benchmarks/pong.py [--out runs] [--minutes 90] [--throughput-seconds 60]
                               [--split-seconds 30] [--skip-split] [--skip-throughput]
                               [--skip-run]

The configuration is ``a3c_lib.experiments.pong.pong_config`` (paper hyperparameters; every
departure commented there). Agent steps = env steps of the preprocessed env (4 frames each).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
from machine import print_machine


def _pin_tensorflow() -> None:
    """One intra-op and one inter-op thread, as in a worker (before any TensorFlow op)."""
    from a3c_lib.keras import tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def time_split(seconds: float) -> dict[str, float]:
    """One worker's loop (as in ``engine/workers.py``), timed part by part for ``seconds``."""
    from a3c_lib.envs.atari import make_atari
    from a3c_lib.experiments.pong import MODEL, pong_config
    from a3c_lib.keras.policy import KerasPolicy
    from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
    from a3c_lib.returns import n_step_returns

    cfg = pong_config()
    n, t_max = cfg.envs_per_worker, cfg.t_max
    envs = [make_atari() for _ in range(n)]
    policy = KerasPolicy(MODEL, envs[0].observation_space, envs[0].action_space)
    rng = np.random.default_rng(0)
    theta = policy.init_params(rng)  # stands for the shared θ
    g, scratch = np.zeros_like(theta), np.empty_like(theta)
    theta_local = np.empty_like(theta)
    lock = mp.get_context("spawn").Lock()
    obs = np.stack([env.reset(seed=j)[0] for j, env in enumerate(envs)]).astype(policy.dtype)
    states = np.zeros((t_max, *obs.shape), policy.dtype)  # (T, N, 4, 84, 84)
    actions = np.zeros((t_max, n), np.int64)
    rewards, terminated = np.zeros((t_max, n)), np.zeros((t_max, n), bool)
    parts = dict.fromkeys(("env", "forward", "theta_to_model", "backward", "lock", "other"), 0.0)
    clock, steps, updates = time.perf_counter, 0, 0
    try:
        start = clock()
        while clock() - start < seconds:
            t0 = clock()
            with lock:  # pull: θ' ← θ
                theta_local[:] = theta
            t1 = clock()
            policy.load(theta_local)  # done by the first act otherwise: timed on its own here
            t2 = clock()
            parts["lock"] += t1 - t0
            parts["theta_to_model"] += t2 - t1
            for t in range(t_max):
                t0 = clock()
                states[t] = obs
                a, _ = policy.act(theta_local, obs, rng)  # (N,)
                t1 = clock()
                actions[t] = a
                for j, env in enumerate(envs):
                    o, r, term, trunc, _ = env.step(a[j])
                    rewards[t, j], terminated[t, j] = r, term
                    obs[j] = env.reset()[0] if term or trunc else o
                parts["forward"] += t1 - t0
                parts["env"] += clock() - t1
            t0 = clock()
            v_last = policy.value(theta_local, obs)  # (N,) bootstrap
            t1 = clock()
            next_values = np.zeros((t_max, n))
            next_values[-1] = v_last
            returns = n_step_returns(rewards, terminated, np.zeros_like(terminated), next_values,
                                     cfg.gamma)  # (T, N)
            t2 = clock()
            _, grad = policy.loss_and_grad(theta_local, states.reshape(t_max * n, *obs.shape[1:]),
                                           actions.reshape(-1), returns.reshape(-1),
                                           cfg.entropy_coef, cfg.value_coef)
            clip_grad_norm(grad, cfg.max_grad_norm)
            t3 = clock()
            with lock:  # push: shared RMSProp on the global θ
                rmsprop_update(theta, g, grad, cfg.lr, cfg.rms_alpha, cfg.rms_eps, scratch)
            t4 = clock()
            parts["forward"] += t1 - t0
            parts["other"] += t2 - t1
            parts["backward"] += t3 - t2
            parts["lock"] += t4 - t3
            steps += t_max * n
            updates += 1
        total = clock() - start
    finally:
        for env in envs:
            env.close()
    print(f"\n## time split of one worker ({n} envs × t_max {t_max}; {updates} updates, "
          f"{steps:,} agent steps in {total:.1f} s = {steps / total:,.0f} agent steps/s)")
    for name, sec in parts.items():
        print(f"  {name:15s} {sec / total:6.1%}  {1e3 * sec / updates:7.2f} ms per update")
    forward_ms = 1e3 * parts["forward"] / (updates * (t_max + 1))  # t_max acts + 1 value
    print(f"  (per call: forward on {n} stacks {forward_ms:.2f} ms incl. the θ-unchanged check; "
          f"gradient on {n * t_max} {1e3 * parts['backward'] / updates:.2f} ms)")
    return {"seconds": total, "agent_steps": steps, "updates": updates,
            "agent_steps_per_second": steps / total,
            **{f"{k}_fraction": v / total for k, v in parts.items()},
            **{f"{k}_ms_per_update": 1e3 * v / updates for k, v in parts.items()}}


def _worker_rss(peaks: dict[int, float]) -> None:
    """Record the resident memory (MB) of every live spawned worker of this process."""
    import psutil

    for p in psutil.Process().children(recursive=True):
        try:
            if "spawn_main" in " ".join(p.cmdline()):
                peaks[p.pid] = max(peaks.get(p.pid, 0.0), p.memory_info().rss / 2**20)
        except psutil.Error:
            pass


def throughput(workers: int, seconds: float) -> dict[str, float]:
    """Agent steps/s of the real trainer once every worker runs, and each worker's peak RSS."""
    from a3c_lib.engine import training
    from a3c_lib.experiments.pong import pong_config

    peaks: dict[int, float] = {}
    marks: dict[str, tuple[float, int]] = {}
    holder = {}

    def watch(log) -> None:
        run = holder.get("run")
        if run is None:
            return
        _worker_rss(peaks)
        updates_by_worker = {row.worker for row in log.updates}
        if "a" not in marks and len(updates_by_worker) == workers:  # all workers learning
            marks["a"] = (time.monotonic(), run.global_step)
        elif "a" in marks and time.monotonic() - marks["a"][0] >= seconds:
            marks.setdefault("b", (time.monotonic(), run.global_step))
            run.stop()

    run = training.start(pong_config(workers=workers), on_metrics=watch)
    holder["run"] = run
    try:
        while run.wait(timeout=0.2) is None:
            pass
    except KeyboardInterrupt:
        training.stop_and_wait(run)
        raise
    if run.error:
        raise RuntimeError(run.error)
    (ta, sa), (tb, sb) = marks["a"], marks.get("b", (time.monotonic(), run.global_step))
    rate = (sb - sa) / max(tb - ta, 1e-9)
    rss = sorted(peaks.values())
    print(f"workers={workers}: {rate:7.0f} agent steps/s over {tb - ta:.0f} s "
          f"(start-up {run.result.summary['startup_seconds']:.0f} s); peak RSS per worker: "
          f"{', '.join(f'{m:.0f} MB' for m in rss)}", flush=True)
    return {"workers": workers, "agent_steps_per_second": rate, "seconds": tb - ta,
            "worker_peak_rss_mb": rss, "startup_seconds": run.result.summary["startup_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs", help="the run goes to OUT/pong (default: runs)")
    parser.add_argument("--minutes", type=float, default=90.0, help="time limit of the run")
    parser.add_argument("--throughput-seconds", type=float, default=60.0)
    parser.add_argument("--split-seconds", type=float, default=30.0)
    parser.add_argument("--skip-split", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    print_machine()
    _pin_tensorflow()  # this process: 1 TF thread, like a worker (the split runs here)
    from a3c_lib.experiments.pong import pong_config, train_pong, write_provenance

    results: dict = {"config": pong_config().to_dict()}
    if not args.skip_split:
        results["split"] = time_split(args.split_seconds)
    if not args.skip_throughput:
        print("\n## throughput of the trainer (agent steps/s once all workers learn)")
        results["throughput"] = [throughput(w, args.throughput_seconds) for w in (1, 2)]
    if not args.skip_run:
        print(f"\n## the run: 2 workers until the mean of the last 10 episodes >= 18 "
              f"(limit {args.minutes:g} min); progress in {Path(args.out) / 'pong'}/progress.txt")
        folder = Path(args.out) / "pong"
        (folder / "provenance.json").unlink(missing_ok=True)
        run = train_pong(folder, minutes=args.minutes)
        s = run.summary
        write_provenance(folder, "python3 benchmarks/pong.py " + " ".join(sys.argv[1:]),
                         pong_config(), {"wall_seconds": s["wall_seconds"]})
        results["run"] = {k: s[k] for k in ("solved", "solve_steps", "solve_seconds",
                                            "global_steps", "wall_seconds", "startup_seconds",
                                            "steps_per_second", "final_mean_return")}
        print(f"solved: {s['solved']}; wall time to the target: {s['solve_seconds']} s "
              f"({(s['solve_seconds'] or 0) / 60:.1f} min); agent steps: {s['solve_steps']}; "
              f"whole run {s['global_steps']:,} steps in {s['wall_seconds']:.0f} s")
        (folder / "benchmark.json").write_text(json.dumps(results, indent=1, default=float))
    print()
    print_machine()


if __name__ == "__main__":
    main()
