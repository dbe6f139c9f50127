"""Model factories by name: ``"module:function"`` -> the function, with one clear error each.

A Keras policy's model is built from a NAME in every process (the parent validates it, each
spawned worker rebuilds it), so the name must be importable from a fresh Python. Errors, each
ONE ValueError naming the factory: not 'module:function', the module fails to import, the name
does not exist or is not a function, it is defined in ``__main__`` (a notebook cell or the script
being run, which a spawned worker cannot import), or it raises while building.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any


def resolve_factory(factory: str | Callable[..., Any]) -> tuple[str, Callable[..., Any]]:
    """``("module:function", the function)`` for a name or a function; ValueError if unreachable.

    >>> resolve_factory("a3c_lib.keras.atari_net:build")[0]
    'a3c_lib.keras.atari_net:build'
    >>> resolve_factory("a3c_lib.keras.atari_net:nope")
    Traceback (most recent call last):
    ...
    ValueError: model factory 'a3c_lib.keras.atari_net:nope' does not exist: module \
'a3c_lib.keras.atari_net' has no attribute 'nope'
    """
    if callable(factory):
        name = f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', '?')}"
        if name.startswith("__main__:"):
            raise ValueError(_main_message(name))
        return name, factory
    if not isinstance(factory, str) or factory.count(":") != 1 or "" in factory.split(":"):
        raise ValueError(f"model factory must be 'module:function' (e.g. "
                         f"'a3c_lib.keras.atari_net:build'), got {factory!r}")
    module_name, attr = factory.split(":")
    if module_name == "__main__":
        raise ValueError(_main_message(factory))
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # ImportError, or any error raised while the module runs
        raise ValueError(f"model factory {factory!r}: importing {module_name!r} failed: "
                         f"{type(err).__name__}: {err}") from None
    function = getattr(module, attr, None)
    if function is None:
        raise ValueError(f"model factory {factory!r} does not exist: module {module_name!r} has "
                         f"no attribute {attr!r}")
    if not callable(function):
        raise ValueError(f"model factory {factory!r} is a {type(function).__name__}, not a "
                         "function")
    return factory, function


def _main_message(name: str) -> str:
    return (f"model factory {name!r} is defined in __main__ (a notebook cell or the script being "
            "run): A3C workers are spawned processes that start a fresh Python and cannot import "
            "it. Put the function in a .py file (e.g. my_nets.py next to the notebook) and name "
            "it 'my_nets:build'")


def build_model(name: str, factory: Callable[..., Any], observation_space: Any, action_space: Any,
           seed: int) -> Any:
    """``factory(observation_space, action_space)``, a Keras model, built with Python's random
    seeded by ``seed`` (Keras draws unseeded initializers' seeds from it; the caller's random
    state is restored afterwards). ``name`` is only for the error messages.

    >>> build_model("my_nets:broken", lambda obs_space, action_space: 1 / 0, None, None, seed=0)
    Traceback (most recent call last):
    ...
    ValueError: model factory 'my_nets:broken' failed: ZeroDivisionError: division by zero
    """
    state = random.getstate()
    random.seed(seed)
    try:
        model = factory(observation_space, action_space)
    except Exception as err:
        raise ValueError(f"model factory {name!r} failed: {type(err).__name__}: {err}") from None
    finally:
        random.setstate(state)
    if not hasattr(model, "trainable_variables") or not callable(model):
        raise ValueError(f"model factory {name!r} returned a {type(model).__name__}, not a "
                         "Keras model")
    return model
