"""The machinery shared by every checker: call the student's function safely, compare, hint.

A checker runs the student's function on a few cases and compares each output with the
library's own tested function (the *reference*). When they disagree it does not print the
expected numbers; it recomputes a few known *wrong variants* (forgot γ, flipped sign, …) and,
if the student's output equals one of them, prints that variant's hint. Everything a student's
code can do wrong — raise, return None, return the wrong shape, nan — becomes one friendly line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

NOT_WRITTEN = "write your function in the cell above"


@dataclass(frozen=True)
class CheckResult:
    """What a checker found. ``bool(result)`` is True when the function is correct.

    >>> bool(CheckResult(True, "✅ correct — well done"))
    True
    """

    passed: bool  #: the function gave the right answer on every case
    message: str  #: the line that was printed

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the checker has already printed ``message``."""


def report(passed: bool, text: str) -> CheckResult:
    """Print "✅ correct — text" or "❌ not yet: text" and return the :class:`CheckResult`.

    >>> report(False, "check the sign").message
    ❌ not yet: check the sign
    '❌ not yet: check the sign'
    """
    message = f"✅ correct — {text}" if passed else f"❌ not yet: {text}"
    print(message)
    return CheckResult(passed, message)


def describe(names: Sequence[str], args: Sequence) -> str:
    """Short description of a case's inputs: shapes of arrays, values of numbers.

    >>> describe(["p", "gamma"], [np.zeros(3), 0.9])
    'inputs: p shape (3,), gamma=0.9'
    """
    parts = []
    for name, arg in zip(names, args, strict=True):
        if isinstance(arg, np.ndarray):
            parts.append(f"{name} shape {arg.shape}")
        elif hasattr(arg, "n_states") and hasattr(arg, "n_actions"):
            parts.append(f"{name} with S={arg.n_states}, A={arg.n_actions}")
        else:
            parts.append(f"{name}={arg!r}")
    return "inputs: " + ", ".join(parts)


def _copy(arg):
    return arg.copy() if isinstance(arg, np.ndarray) else arg  # the student may write into it


def _what(shape: tuple) -> str:
    return "a single number" if shape == () else f"an array of shape {shape}"


Variant = tuple[str, Callable]  #: (hint, wrong_function(*args)) — a known mistake and its hint


def check_function(fn, *, name: str, arg_names: Sequence[str], cases: Sequence[tuple],
                   reference: Callable | Sequence, variants: Sequence[Variant] = (),
                   generic_hint: str = "", shape_note: str = "", success: str = "",
                   rtol: float = 1e-5, atol: float = 1e-7) -> CheckResult:
    """Run ``fn`` on every case and compare with ``reference``; print and return the verdict.

    Args:
        fn: the student's function.
        name: its name in the exercise, for the messages.
        arg_names: names of its arguments, in order, for the messages.
        cases: argument tuples; they should be chosen so that every variant differs from the
            reference on at least one of them.
        reference: the correct function (the library's tested code), called with the same args,
            or the expected outputs, one per case, computed beforehand by the library.
        variants: known mistakes, tried in order on the first case where ``fn`` is wrong.
        generic_hint: said when no variant matches.
        shape_note: appended to a wrong-shape message, e.g. "(one value per state)".
        success: said when every case is right.
        rtol, atol: tolerances of the comparisons; loose enough for a float32 answer, far tighter
            than the distance between the right answer and any variant on the chosen cases.

    >>> def mean_of(x): return x.mean()
    >>> check_function(mean_of, name="f", arg_names=["x"], cases=[(np.ones(3),)],
    ...                reference=np.sum, variants=[("divided by n", np.mean)]).passed
    ❌ not yet: divided by n (case 1 of 1, inputs: x shape (3,))
    False
    """
    if not callable(fn):
        return report(False, f"pass your function itself, e.g. check_{name}({name}) — without "
                             f"calling it (got a {type(fn).__name__})")
    for i, args in enumerate(cases, start=1):
        where = f"case {i} of {len(cases)}, {describe(arg_names, args)}"
        try:
            out = fn(*[_copy(a) for a in args])
        except NotImplementedError:
            return report(False, NOT_WRITTEN)
        except Exception as err:  # any bug in the student's code becomes one friendly line
            return report(False, f"your function raised {type(err).__name__}: {err} ({where})")
        if out is None:
            return report(False, f"{NOT_WRITTEN} (it returned None: did you forget `return`?)")
        expected = reference(*[_copy(a) for a in args]) if callable(reference) else reference[i - 1]
        expected = np.asarray(expected, dtype=np.float64)
        try:
            got = np.asarray(out)
            if got.dtype.kind not in "biuf":  # e.g. a string "4.5", which numpy would convert
                raise TypeError(got.dtype)
            got = got.astype(np.float64)
        except (TypeError, ValueError):
            return report(False, f"your function returned a {type(out).__name__}, expected "
                                 f"{_what(expected.shape)} ({where})")
        if got.shape != expected.shape:
            note = f" {shape_note}" if shape_note else ""
            return report(False, f"your function returned {_what(got.shape)}, expected "
                                 f"{_what(expected.shape)}{note} ({where})")
        if not np.all(np.isfinite(got)):
            return report(False, f"your function returned nan or inf ({where})")
        if np.allclose(got, expected, rtol=rtol, atol=atol):
            continue
        for hint, wrong in variants:
            try:
                candidate = np.asarray(wrong(*[_copy(a) for a in args]), dtype=np.float64)
            except Exception:  # a variant that does not apply to this case (e.g. broadcasting)
                continue
            if candidate.shape == got.shape and np.allclose(got, candidate, rtol=rtol, atol=atol):
                return report(False, f"{hint} ({where})")
        if np.any(expected != 0) and np.allclose(got, -expected, rtol=rtol, atol=atol):
            return report(False, f"the sign is flipped ({where})")
        return report(False, f"wrong value: {generic_hint or 're-read the formula'} ({where})")
    return report(True, success or f"{name} agrees with the library on all {len(cases)} cases")
