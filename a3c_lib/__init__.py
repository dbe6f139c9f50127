"""A3C from first principles: the small, tested modules behind the course notebooks.

Read the modules in the order of the course:

==================  ==========================================================
module              lesson
==================  ==========================================================
expectation         E_P[X] = Σ P_i X_i, sampling, running means      (nb 01)
mdp                 deterministic tabular MDPs and the GridWorld      (nb 00, 02)
values              V, Q, A, ρ^{s0}, ρ^π and J(π), solved exactly      (nb 02, 03)
policy_gradient     softmax policies and ∇J = E[A·∇log π]            (nb 04)
returns             discounted and n-step returns                      (nb 04, 05)
==================  ==========================================================

Importing ``a3c_lib`` never imports TensorFlow: the parallel workers are spawned processes that
only need numpy and gymnasium (TensorFlow does not survive ``fork``, and importing it costs
seconds). Modules that need TensorFlow import it themselves.
"""

import os

__version__ = "0.1.0"

#: Fast mode (``A3C_FAST=1``): notebooks use tiny budgets so CI and a class can run them in
#: seconds. Read it through this name so every notebook agrees on what "fast" means.
FAST_MODE: bool = os.environ.get("A3C_FAST", "0") not in ("", "0", "false", "False")
