"""The Keras 3 twin of the numpy networks: the ONLY package of a3c_lib that imports TensorFlow.

Importing this package imports TensorFlow and Keras QUIETLY: TensorFlow 2.21 writes its absl
start-up lines ("All log messages before absl::InitializeLog() …", oneDNN, CUDA probing, CPU
instructions) straight to file descriptor 2 while it is imported, and ``TF_CPP_MIN_LOG_LEVEL`` no
longer hides them. So the import runs with fd 2 pointed at /dev/null (a Python exception still
propagates, with its message). Every TensorFlow user goes through here: the CLI, the modules
below, the tests and the notebooks (``from a3c_lib.keras import tf, keras`` — or
``import a3c_lib.keras`` before ``import tensorflow``, which then finds it loaded).
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_fd_silenced():
    """Point file descriptor 2 (C/C++ code's stderr) at /dev/null for the ``with`` block."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Import TensorFlow and Keras without their start-up chatter (once); return ``tf``."""
    if "tensorflow" not in sys.modules or "keras" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # older TensorFlow honours it
        with stderr_fd_silenced():
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    return sys.modules["tensorflow"]


tf = import_tensorflow()
keras = sys.modules["keras"]
