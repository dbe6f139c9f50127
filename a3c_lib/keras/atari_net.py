"""The paper's feed-forward Atari network in Keras 3 (Mnih et al. 2016, §5.1; = Mnih et al. 2013).

A model factory for :mod:`a3c_lib.keras.policy`: ``build(observation_space, action_space)``
returns a two-head Keras model (train it with ``policy="keras:a3c_lib.keras.atari_net:build"``).
Its input is the observation exactly as :mod:`a3c_lib.envs.atari` gives it — 4 stacked 84×84
grey frames, uint8, frames first — so the env wrapper stays generic and the network does the
(cheap) scaling and transpose::

    layer            output shape      parameters
    obs              (B, 4, 84, 84)    uint8 0…255
    scale, permute   (B, 84, 84, 4)    float32 in [0, 1], channels last (what a CPU conv wants)
    conv_1           (B, 20, 20, 16)   16 filters 8×8, stride 4, ReLU     4,112
    conv_2           (B, 9, 9, 32)     32 filters 4×4, stride 2, ReLU     8,224
    flatten          (B, 2592)
    hidden           (B, 256)          dense, ReLU                       663,808
    policy_logits    (B, A)            π(·|s) = softmax(logits)          257·A
    value            (B, 1)            V(s)                                  257

With Pong's 6 actions: 677,943 parameters, 2.7 MB as float32.

Initialisation (the paper does not give one; ours, as in ``nn.mlp.init_theta``): orthogonal
with gain √2 for the ReLU layers, 0.01 for the policy head (π starts near uniform), 1 for the
value head, zero biases. The initializers take no fixed seed: ``KerasPolicy.init_params`` seeds
them from the run's seed.

>>> import gymnasium as gym
>>> model = build(gym.spaces.Box(0, 255, (4, 84, 84), "uint8"), gym.spaces.Discrete(6))
>>> [tuple(o.shape) for o in model.outputs], model.count_params()
([(None, 6), (None, 1)], 677943)
"""

from __future__ import annotations

import math
from typing import Any

from a3c_lib.keras import keras  # imported quietly by the package

FRAMES, SIZE = 4, 84  # the stack of a3c_lib.envs.atari: 4 frames of 84×84


def build(observation_space: Any, action_space: Any) -> keras.Model:
    """The conv actor-critic: obs (B, 4, 84, 84) uint8 -> [logits (B, A), value (B, 1)].

    Args:
        observation_space: the env's; its shape must be (4, 84, 84).
        action_space: the env's; Discrete(A).

    Raises:
        ValueError: another observation shape or action space.
    """
    shape = tuple(getattr(observation_space, "shape", None) or ())
    if shape != (FRAMES, SIZE, SIZE):
        raise ValueError(f"observation_space must have shape ({FRAMES}, {SIZE}, {SIZE}) (4 "
                         f"stacked 84×84 grey frames, see a3c_lib.envs.atari), got {shape}")
    n_actions = getattr(action_space, "n", None)
    if type(action_space).__name__ != "Discrete":
        raise ValueError(f"action_space must be Discrete, got {action_space}")

    def relu_init() -> keras.initializers.Initializer:  # a fresh draw for every layer
        return keras.initializers.Orthogonal(gain=math.sqrt(2.0))

    obs = keras.Input(shape=(FRAMES, SIZE, SIZE), dtype="uint8", name="obs")  # (B, 4, 84, 84)
    x = keras.layers.Rescaling(1.0 / 255.0, name="scale")(obs)  # (B, 4, 84, 84) float32
    x = keras.layers.Permute((2, 3, 1), name="channels_last")(x)  # (B, 84, 84, 4)
    x = keras.layers.Conv2D(16, 8, strides=4, activation="relu", kernel_initializer=relu_init(),
                            name="conv_1")(x)  # (B, 20, 20, 16)
    x = keras.layers.Conv2D(32, 4, strides=2, activation="relu", kernel_initializer=relu_init(),
                            name="conv_2")(x)  # (B, 9, 9, 32)
    x = keras.layers.Flatten(name="flatten")(x)  # (B, 2592)
    h = keras.layers.Dense(256, activation="relu", kernel_initializer=relu_init(),
                           name="hidden")(x)  # (B, 256)
    logits = keras.layers.Dense(int(n_actions), name="policy_logits",
                                kernel_initializer=keras.initializers.Orthogonal(0.01))(h)
    value = keras.layers.Dense(1, name="value",
                               kernel_initializer=keras.initializers.Orthogonal(1.0))(h)
    return keras.Model(obs, [logits, value], name="atari_a3c")  # (B, A), (B, 1)
