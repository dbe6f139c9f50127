"""Soak test: A3C trains for N minutes; does memory stay flat? (issue 6: "10 minutes, flat memory")

Runs the default A3C config with no target (it keeps training after CartPole is solved) and a
step budget it never reaches, samples the resident memory (RSS) of the parent and of every
worker process every ``--interval`` seconds, and prints a table, then start/end/max RSS and the
slope of each over the second half of the run.

What may grow, by design: the parent's :class:`~a3c_lib.engine.metrics.MetricsLog` holds at most
``MAX_ROWS`` rows per kind (~300 B per update row, ~200 B per episode row: <= ~35 MB in all)
and thins itself beyond that, so it grows during the first minute or so (~1000 update rows/s)
and then stays flat. The workers allocate nothing per update.

Pass/fail (exit code 1 on failure), measured from the first sample taken after ``--warmup``:
  * parent RSS grows by at most ``--parent-bound`` MB (default 64: the MetricsLog caps + slack),
  * each worker's RSS grows by at most ``--worker-bound`` MB (default 16),
  * the run is still healthy at the end (no error) and stops within a few seconds.

    python3 benchmarks/soak.py [--minutes 10] [--interval 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import psutil
from machine import print_machine

from a3c_lib.engine import metrics, training
from a3c_lib.engine.config import TrainConfig

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (nan if it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / MB
    except psutil.Error:
        return float("nan")


def slope_mb_per_min(t: np.ndarray, rss: np.ndarray) -> float:
    """Least-squares slope of rss (MB) against t (s), in MB per minute."""
    if len(t) < 2:
        return float("nan")
    return float(np.polyfit(t / 60.0, rss, 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=20.0,
                        help="seconds before the reference ('start') sample")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parent-bound", type=float, default=64.0, help="MB")
    parser.add_argument("--worker-bound", type=float, default=16.0, help="MB")
    parser.add_argument("--update-rows", type=int, default=None,
                        help="MetricsLog cap on update rows (default: metrics.MAX_ROWS); a small "
                             "cap shows the thinning within a short soak")
    args = parser.parse_args()
    print_machine()
    if args.update_rows is not None:
        metrics.MAX_ROWS = {**metrics.MAX_ROWS, "updates": args.update_rows}
    print(f"# MetricsLog caps: {metrics.MAX_ROWS}")
    config = TrainConfig(workers=args.workers, target_return=None, max_steps=10**15)
    print(f"# config: {config.to_dict()}")
    print(f"# {args.minutes:g} minutes, a sample every {args.interval:g} s, reference sample "
          f"after {args.warmup:g} s", flush=True)
    me = psutil.Process().pid
    run = training.start(config)
    pids = [p.pid for p in run._backend._procs]  # the process backend's workers
    print(f"{'t (s)':>7} {'steps':>12} {'episodes':>9} {'upd rows':>9} {'stride':>6} "
          f"{'parent MB':>10} " + " ".join(f"{f'worker{i} MB':>10}" for i in range(len(pids))),
          flush=True)
    t0, end = time.monotonic(), time.monotonic() + 60 * args.minutes
    samples = []  # (t, parent, worker 0, worker 1, ...)
    next_sample = t0 + min(args.warmup, args.interval)
    while time.monotonic() < end and run.running:
        time.sleep(max(0.0, min(next_sample, end) - time.monotonic()))
        t = time.monotonic() - t0
        row = [t, rss_mb(me), *(rss_mb(pid) for pid in pids)]
        samples.append(row)
        log = run.metrics
        print(f"{t:7.0f} {run.global_step:12,d} {log.n_episodes:9,d} {len(log.updates):9,d} "
              f"{log.stride['updates']:6d} {row[1]:10.1f} "
              + " ".join(f"{x:10.1f}" for x in row[2:]), flush=True)
        next_sample += args.interval
    t_stop = time.monotonic()
    run.stop()
    result = run.wait(timeout=30)
    stop_seconds = time.monotonic() - t_stop
    s = result.summary if result is not None else {}
    print(f"# stopped in {stop_seconds:.2f} s; {s.get('global_steps', 0):,} steps, "
          f"{s.get('updates', 0):,} updates, {s.get('episodes', 0):,} episodes, "
          f"{s.get('steps_per_second', 0):.0f} steps/s, metrics_stride "
          f"{s.get('metrics_stride')}, error: {run.error}")

    data = np.array(samples)  # (n_samples, 2 + workers)
    ok = run.error is None and result is not None and stop_seconds < 5.0
    ref = np.flatnonzero(data[:, 0] >= args.warmup - 1e-6)
    if len(ref) < 2:
        print("FAIL: too few samples after the warm-up; run longer")
        return 1
    data = data[ref[0]:]  # from the reference sample on
    half = data[data[:, 0] >= data[0, 0] + (data[-1, 0] - data[0, 0]) / 2]  # second half
    names = ["parent"] + [f"worker{i}" for i in range(len(pids))]
    for j, name in enumerate(names, start=1):
        start, stop_, peak = data[0, j], data[-1, j], np.nanmax(data[:, j])
        bound = args.parent_bound if j == 1 else args.worker_bound
        grew = stop_ - start
        verdict = "ok" if grew <= bound else "FAIL"
        ok &= grew <= bound
        slope_all = slope_mb_per_min(data[:, 0], data[:, j])
        slope_half = slope_mb_per_min(half[:, 0], half[:, j])
        print(f"{name:>8}: start {start:7.1f} MB, end {stop_:7.1f} MB, max {peak:7.1f} MB, "
              f"growth {grew:+6.1f} MB (bound {bound:g}), slope {slope_all:+.2f} MB/min "
              f"(second half {slope_half:+.2f}) — {verdict}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
