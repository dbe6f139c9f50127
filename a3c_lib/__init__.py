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
mlp                 the numpy actor-critic network and its hand backprop (nb 05)
networks, losses    the same network in Keras 3 and its tf.GradientTape loss (nb 05)
config              TrainConfig: every hyperparameter, validated         (nb 05, 06)
rollout, optim      t_max-step rollouts; shared RMSProp and clipping     (nb 05, 06)
workers, run        the asynchronous actor-learner processes             (nb 06)
training, metrics   train()/start(), MetricsLog                          (nb 05, 06)
dashboard           the live training dashboard (sliders, Train, Stop)   (nb 06)
replay              can experience replay replace parallel agents?       (nb 07)
render, reproduce   the agent on screen; cached reference runs in data/  (nb 08)
exercises           self-checking exercises                              (nb 01–07)
cli                 ``python -m a3c_lib train | reproduce``
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
