"""The actor-critic network as a Keras 3 model: the readable reference and the export format.

The parallel workers do not use this model: they run the same network in numpy (``mlp.py``),
because a per-step eager Keras call costs ~1 ms against a few µs in numpy, and TensorFlow does not
survive ``fork``. This module builds the identical architecture in Keras and converts weights
to and from mlp.py's flat vector theta; ``tests/test_networks_losses.py`` checks that both
networks give the same outputs on the same weights.

====================  ===========  ==============================================
output                shape        meaning
====================  ===========  ==============================================
``policy_logits``     (B, A)       logits; π(·|s) = softmax(logits)
``value``             (B, 1)       V(s); Keras Dense keeps the unit axis — squeeze
                                   it to (B,) before comparing with returns (B,)
====================  ===========  ==============================================

Layers are named ``trunk_0``, ``trunk_1``, … (Dense, tanh), ``policy_logits`` and ``value``.
"""

from __future__ import annotations

import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probes on a CPU-only machine) in notebooks and
# the CLI; set before TensorFlow is first imported. A user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import keras
import numpy as np

from a3c_lib.nn.mlp import MLPSpec, unflatten


def build_actor_critic(
    obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64), dtype: str = "float32"
) -> keras.Model:
    """Functional Keras model obs (B, obs_dim) -> [logits (B, A), value (B, 1)].

    Args:
        obs_dim: observation length, >= 1.
        n_actions: number of discrete actions A, >= 1.
        hidden: widths of the shared tanh trunk, each >= 1.
        dtype: ``"float32"`` (Keras default) or ``"float64"`` (exact comparisons in tests).

    >>> model = build_actor_critic(4, 2, hidden=(8,))
    >>> logits, value = model(np.zeros((3, 4), dtype="float32"))
    >>> tuple(logits.shape), tuple(value.shape)
    ((3, 2), (3, 1))
    """
    spec = MLPSpec(obs_dim, n_actions, tuple(hidden))  # validates the sizes (ValueError)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    obs = keras.Input(shape=(spec.obs_dim,), name="obs", dtype=dtype)  # (B, obs_dim)
    h = obs
    for i, width in enumerate(spec.hidden):
        h = keras.layers.Dense(width, activation="tanh", name=f"trunk_{i}", dtype=dtype)(h)
    logits = keras.layers.Dense(spec.n_actions, name="policy_logits", dtype=dtype)(h)  # (B, A)
    value = keras.layers.Dense(1, name="value", dtype=dtype)(h)  # (B, 1)
    return keras.Model(obs, [logits, value], name="actor_critic")


def spec_of(model: keras.Model) -> MLPSpec:
    """The MLPSpec of a model made by :func:`build_actor_critic` (read from its layer sizes).

    >>> spec_of(build_actor_critic(4, 2, hidden=(8, 3)))
    MLPSpec(obs_dim=4, n_actions=2, hidden=(8, 3))
    """
    trunk = [layer for layer in model.layers if layer.name.startswith("trunk_")]
    return MLPSpec(
        obs_dim=int(model.inputs[0].shape[-1]),
        n_actions=int(model.get_layer("policy_logits").units),
        hidden=tuple(int(layer.units) for layer in trunk),
    )


def _layer_pairs(spec: MLPSpec) -> list[tuple[str, str, str]]:
    """(Keras layer name, theta kernel name, theta bias name) in theta's order."""
    pairs = [(f"trunk_{i}", f"W{i}", f"b{i}") for i in range(len(spec.hidden))]
    return pairs + [("policy_logits", "W_pi", "b_pi"), ("value", "W_v", "b_v")]


def _check_spec(model: keras.Model, spec: MLPSpec | None) -> MLPSpec:
    actual = spec_of(model)
    if spec is not None and spec != actual:
        raise ValueError(f"spec must match the model's sizes {actual}, got {spec}")
    return actual


def set_flat_weights(model: keras.Model, theta: np.ndarray, spec: MLPSpec | None = None) -> None:
    """Load mlp.py's flat theta (P,) into the model (cast to the model's dtype).

    >>> model = build_actor_critic(1, 1, hidden=())
    >>> set_flat_weights(model, np.array([2.0, 0.5, 3.0, -1.0]))  # W_pi, b_pi, W_v, b_v
    >>> [float(x[0, 0]) for x in model(np.ones((1, 1), dtype="float32"))]
    [2.5, 2.0]
    """
    spec = _check_spec(model, spec)
    params = unflatten(spec, np.asarray(theta))  # raises ValueError on a bad shape
    for layer_name, w, b in _layer_pairs(spec):
        model.get_layer(layer_name).set_weights([params[w], params[b]])


def get_flat_weights(model: keras.Model, spec: MLPSpec | None = None) -> np.ndarray:
    """The model's weights as mlp.py's flat theta, shape (P,) float64.

    >>> model = build_actor_critic(3, 2, hidden=(4,))
    >>> theta = get_flat_weights(model); theta.shape
    (31,)
    >>> set_flat_weights(model, theta + 1.0)
    >>> bool(np.allclose(get_flat_weights(model), theta + 1.0))
    True
    """
    spec = _check_spec(model, spec)
    theta = np.zeros(spec.n_params)  # (P,)
    params = unflatten(spec, theta)
    for layer_name, w, b in _layer_pairs(spec):
        kernel, bias = model.get_layer(layer_name).get_weights()
        params[w][...] = kernel  # (n_in, n_out)
        params[b][...] = bias  # (n_out,)
    return theta


def flat_gradients(model: keras.Model, grads) -> np.ndarray:
    """Tape gradients (one per ``model.trainable_variables``) laid out like mlp.py's theta, (P,).

    Matched by variable path (``trunk_0/kernel`` …), not by position. Any list of per-variable
    arrays works; the variables' own values give back :func:`get_flat_weights`:

    >>> model = build_actor_critic(3, 2, hidden=(4,))
    >>> values = [v.numpy() for v in model.trainable_variables]
    >>> bool(np.array_equal(flat_gradients(model, values), get_flat_weights(model)))
    True
    """
    spec = spec_of(model)
    by_path = {v.path: np.asarray(g) for v, g in zip(model.trainable_variables, grads, strict=True)}
    flat = np.zeros(spec.n_params)  # (P,)
    params = unflatten(spec, flat)
    for layer_name, w, b in _layer_pairs(spec):
        params[w][...] = by_path[f"{layer_name}/kernel"]  # (n_in, n_out)
        params[b][...] = by_path[f"{layer_name}/bias"]  # (n_out,)
    return flat


def save_weights(model: keras.Model, path: str | Path) -> Path:
    """Save the model's weights to HDF5; Keras 3 requires the name to end in ``.weights.h5``.

    Load them back with ``model.load_weights(path)`` on a model from :func:`build_actor_critic`
    with the same sizes.

    >>> save_weights(build_actor_critic(2, 2, (3,)), "model.h5")
    Traceback (most recent call last):
    ...
    ValueError: path must end in '.weights.h5' (a Keras 3 rule), got 'model.h5'
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"path must end in '.weights.h5' (a Keras 3 rule), got '{path}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(path))
    return path


def save_theta(theta: np.ndarray, spec: MLPSpec, path: str | Path) -> Path:
    """Write a numpy θ (laid out as in ``nn.mlp``) as a Keras ``.weights.h5`` file.

    The engine never imports TensorFlow; callers that want the Keras file (the CLI, ``reproduce``)
    call this after the workers are done.
    """
    model = build_actor_critic(spec.obs_dim, spec.n_actions, spec.hidden)
    set_flat_weights(model, theta)
    return save_weights(model, path)
