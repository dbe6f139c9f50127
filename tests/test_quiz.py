"""Concept checks: grade() says right or wrong and why; the widget shows the same verdict."""

from __future__ import annotations

import collections
import re

import pytest

from a3c_lib.exercises import CheckResult
from a3c_lib.exercises.quiz import (
    CSS_CLASS,
    NO_CHOICE,
    TRY_AGAIN,
    concept_check,
    display_order,
    grade,
)

OPTIONS = ["E_π[A] = 0", "E_π[A] = V(s)", "E_π[A] = 1", "it depends on γ"]
WHY = "V(s) is the π-average of Q(s, ·), so A = Q − V averages to zero"
HINTS = [None, "that is E_π[Q], not E_π[A]", "A is a difference, not a probability",
         "the identity holds for every γ"]


def test_right_answer_passes_and_explains():
    result = grade(0, answer=0, why=WHY, hints=HINTS)
    assert isinstance(result, CheckResult)
    assert result.passed and bool(result)
    assert result.message == f"✅ right — {WHY}"


@pytest.mark.parametrize("wrong", [1, 2, 3])
def test_each_wrong_answer_gets_its_own_hint_and_not_the_answer(wrong):
    result = grade(wrong, answer=0, why=WHY, hints=HINTS)
    assert not result.passed and not bool(result)
    assert result.message == f"❌ not quite — {HINTS[wrong]}"
    assert WHY not in result.message  # a wrong pick does not reveal the explanation


def test_wrong_answer_without_hints_gets_a_generic_line():
    assert grade(2, answer=0, why=WHY).message == f"❌ not quite — {TRY_AGAIN}"
    assert grade(7, answer=0, why=WHY, hints=HINTS).message == f"❌ not quite — {TRY_AGAIN}"


def test_no_choice_is_not_right():
    result = grade(None, answer=0, why=WHY)
    assert not result.passed and NO_CHOICE in result.message


def test_widget_grades_clicks_like_grade():
    box = concept_check("Which holds for every state?", OPTIONS, answer=0, why=WHY, hints=HINTS,
                        shuffle=False)
    assert CSS_CLASS in box._dom_classes
    assert list(box.radio.options) == OPTIONS and box.radio.value is None
    box.button.click()  # nothing picked yet
    assert not box.result.passed and NO_CHOICE in box.feedback.value
    for pick in (1, 3, 0, 2):
        box.radio.index = pick
        assert box.feedback.value == ""  # a new pick clears the old verdict
        box.button.click()
        expected = grade(pick, 0, WHY, HINTS)
        assert box.result == expected
        assert expected.message.split(" — ")[1][:20] in box.feedback.value


def test_shuffled_widget_grades_the_option_by_its_label_not_its_place():
    question = "Which holds for every state?"
    order = display_order(question, len(OPTIONS))
    assert sorted(order) == [0, 1, 2, 3] and order != [0, 1, 2, 3]
    assert display_order(question, len(OPTIONS)) == order  # the same in every run
    box = concept_check(question, OPTIONS, answer=0, why=WHY, hints=HINTS)
    assert box.order == order and list(box.radio.options) == [OPTIONS[i] for i in order]
    for label, hint in zip(OPTIONS, HINTS, strict=True):
        box.radio.value = label  # the student picks by what they read
        box.button.click()
        assert box.result.passed == (label == OPTIONS[0])
        assert box.result.message == (f"✅ right — {WHY}" if hint is None
                                      else f"❌ not quite — {hint}")


@pytest.mark.parametrize("kwargs, name", [
    ({"options": ["only one"]}, "options"),
    ({"options": "ab"}, "options"),
    ({"options": ["a", "a"]}, "options"),
    ({"options": ["a", ""]}, "options"),
    ({"answer": 4}, "answer"),
    ({"answer": -1}, "answer"),
    ({"answer": True}, "answer"),
    ({"why": "  "}, "why"),
    ({"hints": [None, "x"]}, "hints"),
    ({"question": ""}, "question"),
])
def test_bad_arguments_raise_one_clear_error(kwargs, name):
    args = {"question": "q?", "options": OPTIONS, "answer": 0, "why": WHY, "hints": HINTS}
    args.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{name} must"):
        concept_check(**args)


# ---- the course uses them: 3-5 per notebook, and a glossary of every symbol --------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
QUIZ_NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def notebook_checks(name: str) -> list[dict]:
    """The arguments of every concept check in a notebook (cells whose last line is the call)."""
    import ast
    import json

    cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
    checks = []
    for cell in cells:  # a check's cell ends with the call (an import may come before it)
        if cell["cell_type"] != "code" or "concept_check(" not in "".join(cell["source"]):
            continue
        last = ast.parse("".join(cell["source"])).body[-1]
        if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                and getattr(last.value.func, "id", None) == "concept_check"):
            continue
        call = last.value
        args = dict(zip(["question", "options", "answer", "why", "hints"],
                        [ast.literal_eval(a) for a in call.args], strict=False))
        args.update({k.arg: ast.literal_eval(k.value) for k in call.keywords})
        checks.append(args)
    return checks


def test_every_numbered_notebook_is_checked():
    assert len(QUIZ_NOTEBOOKS) == 11 and QUIZ_NOTEBOOKS[0] == "00_rl_basics"


@pytest.mark.parametrize("name", QUIZ_NOTEBOOKS)
def test_each_notebook_has_three_to_five_concept_checks(name):
    checks = notebook_checks(name)
    assert 3 <= len(checks) <= 5, f"{name}: {len(checks)} concept checks"
    for args in checks:  # each one is valid: building it raises nothing
        concept_check(**args)


def test_the_right_answer_is_not_always_in_the_same_place():
    # the course writes the right option first; the widget's shuffle must move it around
    shown = [display_order(a["question"], len(a["options"])).index(a["answer"])
             for name in QUIZ_NOTEBOOKS for a in notebook_checks(name)]
    counts = collections.Counter(shown)
    assert len(counts) >= 3 and max(counts.values()) < len(shown) / 2, counts


def test_the_glossary_names_every_symbol_and_its_notebook():
    text = (ROOT / "notebooks" / "glossary.md").read_text()
    for symbol in (r"\pi(a\mid s)", r"\rho^{s_0}", r"\rho^\pi", r"d^\pi", r"J(\pi)", "G_t",
                   r"\delta_t", r"t_{\max}", "c_v", "c_H", r"H(\pi", r"\lambda", r"V^\pi",
                   r"Q^\pi", r"A^\pi", r"\gamma", r"\theta", r"\eta(s)", r"\mu"):
        rows = [line for line in text.splitlines() if line.startswith("| ") and symbol in line]
        assert rows, f"{symbol} is missing from the glossary"
        assert any(re.search(r"\| 0\d(, \d\d)?( \(.*\))?(, 0\d)? \|", r) for r in rows), rows
