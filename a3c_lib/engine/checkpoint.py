"""Atomic checkpoints: theta, the shared RMSProp statistics, the counters and the config.

One ``checkpoint.npz`` (``np.savez``; no pickle: loaded with ``allow_pickle=False``) holds
everything needed to resume; ``checkpoint.json`` repeats the small facts for humans. Each file is
written ATOMICALLY: to a temporary file in the same directory, flushed and ``fsync``-ed, then
``os.replace``-d over the old one — a crash (or SIGKILL) mid-write leaves the previous checkpoint
intact, never half a file.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:  # removed again afterwards
...     _ = save_checkpoint(d, np.arange(3.0), np.ones(3), step=30, updates=2,
...                         config={"lr": 0.1})
...     ck = load_checkpoint(d)
>>> ck.theta, ck.step, ck.updates, ck.config["lr"]
(array([0., 1., 2.]), 30, 2, 0.1)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

NPZ_NAME, JSON_NAME = "checkpoint.npz", "checkpoint.json"


class Checkpoint(NamedTuple):
    theta: np.ndarray  # (P,) global parameters
    rms_g: np.ndarray  # (P,) shared RMSProp statistics
    step: int  # global env steps spent
    updates: int  # global updates applied
    config: dict[str, Any]  # TrainConfig.to_dict() of the run that wrote it


def atomic_write(path: str | Path, write) -> Path:
    """Call ``write(fileobj)`` on a temp file next to ``path``, fsync it, then rename it over.

    A process killed mid-write (SIGKILL runs no clean-up) leaves its temp file behind; the next
    write to the same ``path`` deletes such leftovers, so a run that is killed again and again
    does not fill the disk (one writer per directory, as a run is).
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # leftovers of killed writers
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX: readers see the old or the new file
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)  # make the rename itself durable
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def save_checkpoint(out_dir: str | Path, theta: np.ndarray, rms_g: np.ndarray, step: int,
                    updates: int, config: dict[str, Any]) -> Path:
    """Write ``out_dir/checkpoint.npz`` (+ ``.json``) atomically; return the npz path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config_json = json.dumps(config)
    # θ and g keep the policy's dtype (float64 for the MLP, float32 for a Keras policy)
    arrays = dict(theta=np.asarray(theta), rms_g=np.asarray(rms_g),
                  step=np.int64(step), updates=np.int64(updates), config_json=np.str_(config_json))
    path = atomic_write(out_dir / NPZ_NAME, lambda f: np.savez(f, **arrays))
    facts = {"step": int(step), "updates": int(updates), "n_params": int(theta.size),
             "config": config}
    atomic_write(out_dir / JSON_NAME, lambda f: f.write(json.dumps(facts, indent=2).encode()))
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint from its directory or its ``.npz`` file (ValueError if there is none)."""
    path = Path(path)
    if path.is_dir():
        path = path / NPZ_NAME
    if not path.is_file():
        raise ValueError(f"resume_from must be a checkpoint directory or {NPZ_NAME}; "
                         f"{path} does not exist")
    with np.load(path, allow_pickle=False) as z:
        return Checkpoint(theta=z["theta"].copy(), rms_g=z["rms_g"].copy(), step=int(z["step"]),
                          updates=int(z["updates"]), config=json.loads(str(z["config_json"])))
