"""A3C from first principles: the small, tested modules behind the course notebooks.

The package tree is the architecture::

    a3c_lib/
        expectation, mdp, gridworld,     the LESSON modules: tabular theory, every quantity exact
        bandit,
        values, policy_gradient,         (nb 01-04, 07); students import these by name
        returns, replay, correlation,
        advantage_estimators
        actor_critic, asynchrony         the loop itself, on top of nn: one agent (nb 05), a
                                         one-process toy A3C with policy lag (nb 06)
        nn/         numpy network maths: mlp (forward, hand backprop), optim (RMSProp, clipping),
                    gaussian (continuous actions, nb 09), policy (the workers' policy interface)
        engine/     config, rollouts, shared memory, worker processes, runs, checkpoints, metrics;
                    rewards (scale, clip) and tasks (per-env defaults, nb 09)
        keras/      the same networks in Keras 3 + their tf.GradientTape losses (the ONLY place
                    that imports TensorFlow); any two-head Keras model as a worker policy, the
                    paper's Atari net (nb 10)
        envs/       Atari (Pong) preprocessed as in the paper, by id for the workers (nb 10)
        viz/        plots, widgets, live dashboard, learning curves, the agent on screen
        experiments/  cached reference runs in data/ (``python -m a3c_lib reproduce``)
        exercises/  self-checking exercises (nb 01-07)
        cli         ``python -m a3c_lib train | reproduce``

Dependencies point one way: lessons <- nn <- engine <- experiments -> viz, keras. The engine
and nn never import keras or viz (a test enforces it), so the spawned worker processes load
neither TensorFlow nor matplotlib: they need only numpy and gymnasium (TensorFlow does not
survive ``fork``, and importing it costs seconds). The one exception is asked for by name: a
run with ``policy="keras:module:function"`` makes each worker import that Keras model (nb 10).
"""

import os

__version__ = "0.1.0"

#: Fast mode (``A3C_FAST=1``): notebooks use tiny budgets so CI and a class can run them in
#: seconds. Read it through this name so every notebook agrees on what "fast" means.
FAST_MODE: bool = os.environ.get("A3C_FAST", "0") not in ("", "0", "false", "False")
