"""Concept checks: a multiple-choice question answered in the notebook, graded on the spot.

Two layers, so the grading can be tested without a browser:

- :func:`grade` is plain Python: given the option the student picked, it returns a
  :class:`~a3c_lib.exercises._report.CheckResult` whose message says right or wrong *and why*.
- :func:`concept_check` wraps it in an ipywidgets box: the question (LaTeX allowed, rendered by
  ``HTMLMath``), radio buttons for the options, a **Check** button and a feedback line.

A wrong pick gets the reason *that option* is wrong (``hints``), not the right answer, so the
student can try again; the right pick gets ``why``, the explanation of the right answer.

The author writes the right option wherever is convenient (the course puts it first); the
widget shows the options in an order shuffled by :func:`display_order`, which depends only on
the question's text: the same for every student and every run, but the right option is not
always in the same place.

>>> grade(1, answer=1, why="A is centred: E_π[A] = 0").message
'✅ right — A is centred: E_π[A] = 0'
>>> grade(0, answer=1, why="...", hints=["V is the average, not the excess", None]).message
'❌ not quite — V is the average, not the excess'
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Sequence

import numpy as np

from a3c_lib.exercises._report import CheckResult

CSS_CLASS = "a3c-concept-check"  #: the box's CSS class (the browser tests find checks by it)
NO_CHOICE = "choose one of the options first, then press Check"
TRY_AGAIN = "that option does not hold; re-read the question and try another"


def _check_question(options: Sequence[str], answer: int, why: str,
                    hints: Sequence[str | None] | None) -> tuple[list[str], list[str | None]]:
    """Validate the arguments of a concept check; return (options, hints) as lists."""
    if isinstance(options, str) or not isinstance(options, Sequence):
        raise ValueError(f"options must be a list of at least 2 strings, got {options!r:.80}")
    options = list(options)
    if len(options) < 2 or not all(isinstance(o, str) and o.strip() for o in options):
        raise ValueError(f"options must be a list of at least 2 non-empty strings, "
                         f"got {options!r:.80}")
    if len(set(options)) != len(options):
        raise ValueError("options must be distinct (a radio button is chosen by its label)")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(options):
        raise ValueError(f"answer must be an option index in [0, {len(options)}), got {answer!r}")
    if not isinstance(why, str) or not why.strip():
        raise ValueError(f"why must be a non-empty string explaining the answer, got {why!r}")
    if hints is None:
        hints = [None] * len(options)
    hints = list(hints)
    if len(hints) != len(options) or not all(h is None or isinstance(h, str) for h in hints):
        raise ValueError(f"hints must be None or one string (or None) per option, "
                         f"{len(options)} in all, got {hints!r:.80}")
    return options, hints


def grade(answer_given: int | None, answer: int, why: str,
          hints: Sequence[str | None] | None = None) -> CheckResult:
    """Grade one pick: right (with ``why``) or wrong (with that option's hint), never raising.

    Args:
        answer_given: index of the option the student picked, or None if nothing is picked.
        answer: index of the right option.
        why: why the right option is right; shown when the student picks it.
        hints: optional, one per option: why that option is wrong (None for the right one).

    Returns:
        A :class:`CheckResult`: ``passed`` and the one-line ``message`` to show.

    >>> grade(None, answer=0, why="because").passed
    False
    >>> grade(2, answer=0, why="because").message
    '❌ not quite — that option does not hold; re-read the question and try another'
    """
    if isinstance(answer, bool) or not isinstance(answer, int) or answer < 0:
        raise ValueError(f"answer must be an option index >= 0, got {answer!r}")
    if answer_given is None:
        return CheckResult(False, f"❔ {NO_CHOICE}")
    if answer_given == answer:
        return CheckResult(True, f"✅ right — {why}")
    hint = None
    if hints is not None and 0 <= answer_given < len(hints):
        hint = hints[answer_given]
    return CheckResult(False, f"❌ not quite — {hint or TRY_AGAIN}")


def display_order(question: str, n_options: int) -> list[int]:
    """The order in which the widget shows the options: a permutation of ``range(n_options)``.

    Seeded by a CRC-32 of the question (Python's ``hash`` of a string changes per process), so
    it is the same on every machine and in every run.

    >>> display_order("Is E_π[A] zero?", 4)
    [2, 1, 3, 0]
    >>> sorted(display_order("any question", 5))
    [0, 1, 2, 3, 4]
    """
    rng = np.random.default_rng(zlib.crc32(question.encode("utf-8")))
    return [int(i) for i in rng.permutation(n_options)]


def concept_check(question: str, options: list[str], answer: int, why: str,
                  hints: Sequence[str | None] | None = None, shuffle: bool = True):
    """A multiple-choice concept check as an ipywidgets box (display it as a cell's last value).

    Args:
        question: the question; may contain LaTeX ($…$), rendered by ``HTMLMath``.
        options: the choices, at least 2 distinct plain-text labels.
        answer: index of the right option.
        why: the explanation shown when the right option is checked.
        hints: optional, one per option: why that option is wrong (None for the right one).
        shuffle: show the options in :func:`display_order` (default) instead of as written.

    Returns:
        ``ipywidgets.VBox`` with the CSS class ``a3c-concept-check``; its parts are also
        ``box.radio`` (its ``index`` counts in the SHOWN order), ``box.button``,
        ``box.feedback``, the last grade ``box.result`` and ``box.order``: ``order[i]`` is the
        index in ``options`` of the i-th option shown.

    Raises:
        ValueError: naming the argument, for fewer than 2 options, duplicates, an ``answer``
            outside [0, len(options)), an empty ``why`` or ``hints`` of the wrong length.

    >>> box = concept_check("Is E_π[A] zero?", ["yes", "no"], answer=0, why="A is centred")
    >>> box.radio.options  # shuffled: the right answer is shown second
    ('no', 'yes')
    >>> box.radio.value = "no"; box.button.click(); box.result.passed
    False
    >>> box.radio.value = "yes"; box.button.click(); box.result.message
    '✅ right — A is centred'
    """
    import ipywidgets as widgets  # here, so grade() and the tests of it need no widgets

    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"question must be a non-empty string, got {question!r}")
    options, hints = _check_question(options, answer, why, hints)
    order = display_order(question, len(options)) if shuffle else list(range(len(options)))
    title = widgets.HTMLMath(f"<b>Concept check.</b> {question}")
    radio = widgets.RadioButtons(options=[options[i] for i in order], value=None,
                                 layout={"width": "max-content"})
    button = widgets.Button(description="Check", button_style="info", icon="check")
    feedback = widgets.HTMLMath("")
    box = widgets.VBox([title, radio, button, feedback])
    box.add_class(CSS_CLASS)
    box.radio, box.button, box.feedback, box.result = radio, button, feedback, None
    box.order = order

    def on_check(_button=None) -> None:
        picked = None if radio.index is None else order[radio.index]  # back to the author's
        box.result = grade(picked, answer, why, hints)
        colour = "#2e7d32" if box.result.passed else "#c62828"
        feedback.value = f'<span style="color:{colour}">{html.escape(box.result.message)}</span>'

    def on_pick(_change) -> None:
        feedback.value = ""  # a new pick clears the old verdict

    button.on_click(on_check)
    radio.observe(on_pick, names="value")
    return box


__all__ = ["concept_check", "display_order", "grade"]
