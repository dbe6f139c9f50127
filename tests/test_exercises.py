"""The exercise checkers: a right answer passes, each typical mistake gets its own hint, and a
broken function (raises, returns None, wrong shape) gets one friendly line — never the answer."""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re

import numpy as np
import pytest

from a3c_lib import exercises as ex
from a3c_lib.exercises._report import NOT_WRITTEN, CheckResult

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = ROOT / "notebooks" / "solutions"


# ---- correct answers, written as a student would (not by calling the library) ------------------

def weighted_average(p, x):
    return float(np.sum(p * x))


def variance(p, x):
    return float(np.sum(p * (x - np.sum(p * x)) ** 2))


def bellman_backup(mdp, pi, v, gamma):
    return np.sum(pi * (mdp.reward + gamma * v[mdp.next_state]), axis=1)


def q_from_v(mdp, v, gamma):
    return mdp.reward + gamma * v[mdp.next_state]


def advantage(q, v):
    return q - v[:, None]


def expected_advantage(pi, adv):
    return np.einsum("sa,sa->s", pi, adv)


def grad_log_softmax(theta, s, a):
    pi_s = np.exp(theta[s]) / np.exp(theta[s]).sum()
    grad = np.zeros_like(theta)
    grad[s] = -pi_s
    grad[s, a] += 1.0
    return grad


def policy_gradient(mdp, theta, gamma):
    from a3c_lib.policy_gradient import softmax_policy
    from a3c_lib.values import advantages, state_distribution

    pi = softmax_policy(theta)
    d = state_distribution(mdp, pi, gamma) / (1.0 - gamma)
    adv = advantages(mdp, pi, gamma)
    return sum(d[s] * pi[s, a] * adv[s, a] * grad_log_softmax(theta, s, a)
               for s in range(mdp.n_states) for a in range(mdp.n_actions))


def n_step_return(rewards, terminated, truncated, next_values, gamma):
    out, g = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        if terminated[t]:
            g = rewards[t]
        elif truncated[t] or t == len(rewards) - 1:
            g = rewards[t] + gamma * next_values[t]
        else:
            g = rewards[t] + gamma * g
        out[t] = g
    return out


def _softmax(logits):
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def policy_logit_gradient(logits, actions, adv):
    onehot = np.eye(logits.shape[1])[actions]
    return -(onehot - _softmax(logits)) * adv[:, None] / len(actions)


def round_robin(streams, chunk):
    t, n = streams.shape
    return np.concatenate([streams[k:k + chunk, i] for k in range(0, t, chunk) for i in range(n)])


def count_global_updates(steps_per_worker, n_workers, t_max):
    return n_workers * (steps_per_worker // t_max)


def importance_weights(pi, mu, states, actions):
    return pi[states, actions] / mu[states, actions]


def off_policy_mean(x, actions, pi, mu):
    return float(np.mean(pi[actions] / mu[actions] * x[actions]))


def _loop_body(spec, theta, g, env, obs, rng, hp, ascent=False):
    """Exercise 05.3 (see tests/test_exercises_loop.py for its mistakes); ascent: a wrong sign."""
    from a3c_lib.exercises.loop import mistaken_update
    return mistaken_update(spec, theta, g, env, obs, rng, hp, "ascent" if ascent else None)


SOLUTIONS = {
    "check_weighted_average": weighted_average, "check_variance": variance,
    "check_bellman_backup": bellman_backup, "check_q_from_v": q_from_v,
    "check_advantage": advantage, "check_expected_advantage": expected_advantage,
    "check_grad_log_softmax": grad_log_softmax, "check_policy_gradient": policy_gradient,
    "check_score_function_gradient":
        lambda th, r: _softmax(th[None])[0] * (r - _softmax(th[None])[0] @ r),
    "check_n_step_return": n_step_return,
    "check_policy_logit_gradient": policy_logit_gradient, "check_round_robin": round_robin,
    "check_count_global_updates": count_global_updates,
    "check_importance_weights": importance_weights, "check_off_policy_mean": off_policy_mean,
}
SOLUTIONS["check_actor_critic_update"] = _loop_body  # notebook 05's loop body (exercise 05.3)
CHECKERS = [name for name in ex.__all__ if name.startswith("check_")]


def _n_step_with(**rule):
    """n_step_return with one rule changed, as a student's mistake would change it."""
    def wrong(rewards, terminated, truncated, next_values, gamma):
        out, g, n = np.zeros(len(rewards)), 0.0, len(rewards)
        for t in reversed(range(n)):
            if terminated[t] and not rule.get("ignore_terminated"):
                g = rewards[t] + (gamma * next_values[t] if rule.get("boot_terminal") else 0.0)
                g = gamma * g if rule.get("extra_gamma") else g  # Σ_k γ^(k+1) r_{t+k}
            elif truncated[t] and rule.get("truncated_is_terminal"):
                g = rewards[t]
            elif (truncated[t] and not rule.get("ignore_truncated")) or t == n - 1:
                boot = 0.0 if (t == n - 1 and rule.get("no_last_bootstrap")) else next_values[t]
                g = (gamma * (rewards[t] + boot) if rule.get("extra_gamma")
                     else rewards[t] + (1.0 if rule.get("undiscounted_boot") else gamma) * boot)
            else:
                g = gamma * (rewards[t] + g) if rule.get("extra_gamma") else rewards[t] + gamma * g
            out[t] = g
        return out
    return wrong


def _pg_weighted_by_start(mdp, theta, gamma):  # d^π replaced by ρ^{s0}
    from a3c_lib.policy_gradient import softmax_policy
    from a3c_lib.values import advantages

    pi = softmax_policy(theta)
    adv = advantages(mdp, pi, gamma)
    return sum(mdp.start[s] * pi[s, a] * adv[s, a] * grad_log_softmax(theta, s, a)
               for s in range(mdp.n_states) for a in range(mdp.n_actions))


def _rows_any_state(theta, s, a):  # e_a − π(·|s') in every row s'
    return np.eye(theta.shape[1])[a] - _softmax(theta)


# (checker, a wrong answer, a piece of the hint it must get)
MISTAKES = [
    ("check_weighted_average", lambda p, x: float(np.mean(x)), "not used as weights"),
    ("check_weighted_average", lambda p, x: float(np.sum(p * x) / len(p)), "divided by the number"),
    ("check_weighted_average", lambda p, x: p * x, "did you forget to add up"),
    ("check_variance", lambda p, x: float(np.sum(p * x**2)), "E[X²]"),
    ("check_variance", lambda p, x: float(np.sqrt(variance(p, x))), "standard deviation"),
    ("check_variance", lambda p, x: float(np.mean((x - np.sum(p * x)) ** 2)), "uniformly"),
    ("check_bellman_backup", lambda mdp, pi, v, g: np.sum(pi * (mdp.reward + v[mdp.next_state]),
                                                          axis=1), "forgot the discount γ"),
    ("check_bellman_backup", lambda mdp, pi, v, g: q_from_v(mdp, v, g).max(axis=1), "max"),
    ("check_bellman_backup", lambda mdp, pi, v, g: np.sum(pi * (mdp.reward + g * v[:, None]),
                                                          axis=1), "V(s) of the current state"),
    ("check_bellman_backup", lambda mdp, pi, v, g: q_from_v(mdp, v, g), "one value per state"),
    ("check_q_from_v", lambda mdp, v, g: mdp.reward + v[mdp.next_state], "forgot the discount"),
    ("check_q_from_v", lambda mdp, v, g: g * v[mdp.next_state], "forgot the reward"),
    ("check_advantage", lambda q, v: v[:, None] - q, "sign is flipped"),
    ("check_advantage", lambda q, v: q - v, "wrong axis"),
    ("check_advantage", lambda q, v: q - q.mean(axis=1, keepdims=True), "π-weighted mean"),
    ("check_expected_advantage", lambda pi, adv: adv.mean(axis=1), "uniformly"),
    ("check_expected_advantage", lambda pi, adv: np.zeros(len(pi)), "wrong value"),
    ("check_expected_advantage", lambda pi, adv: np.sum(pi * adv), "one value per state"),
    ("check_grad_log_softmax", lambda th, s, a: -grad_log_softmax(th, s, a), "sign is flipped"),
    ("check_grad_log_softmax", lambda th, s, a: grad_log_softmax(th, s, a)
     + np.where(np.arange(th.shape[0])[:, None] == s, _softmax(th), 0.0), "subtract π"),
    ("check_grad_log_softmax", lambda th, s, a: grad_log_softmax(th, a, a), "wrong row"),
    ("check_grad_log_softmax", _rows_any_state, "every row"),
    ("check_grad_log_softmax", lambda th, s, a: np.eye(th.shape[1])[a] - _softmax(th)[s],
     "shape of theta"),
    ("check_policy_gradient", lambda mdp, th, g: (1 - g) * policy_gradient(mdp, th, g),
     "normalised"),
    ("check_policy_gradient", lambda mdp, th, g: -policy_gradient(mdp, th, g), "sign is flipped"),
    ("check_policy_gradient", _pg_weighted_by_start, "START distribution"),
    ("check_score_function_gradient", lambda th, r: _softmax(th[None])[0] * r, "two parts"),
    ("check_n_step_return", _n_step_with(truncated_is_terminal=True), "missing bootstrap on trunc"),
    ("check_n_step_return", _n_step_with(boot_terminal=True), "through a terminal"),
    ("check_n_step_return", _n_step_with(ignore_terminated=True), "crosses an episode end"),
    ("check_n_step_return", _n_step_with(ignore_truncated=True), "crosses an episode end"),
    ("check_n_step_return", _n_step_with(no_last_bootstrap=True), "last step must bootstrap"),
    ("check_n_step_return", _n_step_with(extra_gamma=True),
     "off-by-one in the discount: the first"),
    ("check_n_step_return", _n_step_with(undiscounted_boot=True), "off-by-one in the discount: the "
                                                                  "bootstrap"),
    ("check_n_step_return", lambda r, te, tr, v, g: n_step_return(r, te, tr, v, 1.0),
     "forgot the discount"),
    ("check_n_step_return", lambda r, te, tr, v, g: r.copy(), "you returned the rewards"),
    ("check_policy_logit_gradient", lambda lg, a, adv: -policy_logit_gradient(lg, a, adv), "sign"),
    ("check_policy_logit_gradient", lambda lg, a, adv: policy_logit_gradient(lg, a, adv) * len(a),
     "divide by the batch size"),
    ("check_policy_logit_gradient", lambda lg, a, adv: -np.eye(lg.shape[1])[a] * adv[:, None]
     / len(a), "forgot −π"),
    ("check_policy_logit_gradient", lambda lg, a, adv: -(np.eye(lg.shape[1])[a] - _softmax(lg))
     * adv / len(a), "advantage[:, None]"),
    ("check_actor_critic_update", lambda *a: _loop_body(*a, ascent=True), "θ moves UP the loss"),
    ("check_round_robin", lambda s, chunk: s.T.ravel(), "worker 0's steps first"),
    ("check_round_robin", lambda s, chunk: s.ravel(), "`chunk` consecutive steps"),
    ("check_count_global_updates", lambda steps, n, t_max: steps // t_max, "ONE worker"),
    ("check_count_global_updates", lambda steps, n, t_max: n * steps / t_max, "round DOWN"),
    ("check_count_global_updates", lambda steps, n, t_max: n * steps, "not one per step"),
    ("check_count_global_updates", lambda steps, n, t_max: n * steps // t_max, "per worker"),
    ("check_importance_weights", lambda pi, mu, s, a: mu[s, a] / pi[s, a], "inverted"),
    ("check_importance_weights", lambda pi, mu, s, a: pi[a, s] / mu[a, s], "swapped"),
    ("check_importance_weights", lambda pi, mu, s, a: pi[s] / mu[s], "one weight per sample"),
    ("check_off_policy_mean", lambda x, a, pi, mu: float(x[a].mean()), "no correction"),
    ("check_off_policy_mean", lambda x, a, pi, mu: float(np.mean(mu[a] / pi[a] * x[a])),
     "inverted"),
    ("check_off_policy_mean", lambda x, a, pi, mu: float(np.sum(pi[a] / mu[a] * x[a])
                                                         / np.sum(pi[a] / mu[a])), "Σρ"),
]


def _run(checker_name: str, fn) -> tuple[CheckResult, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = getattr(ex, checker_name)(fn)
    assert isinstance(result, CheckResult)
    assert buffer.getvalue().strip() == result.message, "the checker prints exactly its message"
    return result, result.message


def test_every_checker_has_a_solution_and_mistakes():
    assert sorted(SOLUTIONS) == sorted(CHECKERS)
    assert {name for name, _, _ in MISTAKES} == set(CHECKERS)


@pytest.mark.parametrize("checker", CHECKERS)
def test_the_solution_passes(checker):
    result, message = _run(checker, SOLUTIONS[checker])
    assert result.passed and bool(result), message
    assert message.startswith("✅ correct — ")


@pytest.mark.parametrize("checker, wrong, hint", MISTAKES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(MISTAKES)])
def test_a_typical_mistake_gets_its_hint(checker, wrong, hint):
    result, message = _run(checker, wrong)
    assert not result.passed and not bool(result)
    assert message.startswith("❌ not yet: ")
    assert hint in message, message


@pytest.mark.parametrize("checker", CHECKERS)
def test_the_stub_is_not_yet_written(checker):
    def stub(*args):
        raise NotImplementedError

    result, message = _run(checker, stub)
    assert not result.passed
    assert message == f"❌ not yet: {NOT_WRITTEN}"


@pytest.mark.parametrize("checker", CHECKERS)
def test_a_function_returning_none_is_not_yet_written(checker):
    result, message = _run(checker, lambda *args: None)
    assert not result.passed
    assert NOT_WRITTEN in message and "return" in message


@pytest.mark.parametrize("checker", CHECKERS)
def test_an_exception_becomes_one_friendly_line(checker):
    def buggy(*args):
        return [0.0][len(args)]  # IndexError: list index out of range

    result, message = _run(checker, buggy)
    assert not result.passed
    assert "your function raised IndexError: list index out of range (case 1 of" in message
    assert "inputs: " in message and "Traceback" not in message


@pytest.mark.parametrize("checker", CHECKERS)
def test_a_wrong_shape_is_named(checker):
    result, message = _run(checker, lambda *args: np.zeros((2, 7, 3)))
    assert not result.passed
    assert "your function returned an array of shape (2, 7, 3), expected " in message


@pytest.mark.parametrize("checker", CHECKERS)
def test_not_a_function(checker):
    result, message = _run(checker, 3.0)
    assert not result.passed and "pass your function itself" in message


def test_the_wrong_variants_start_from_the_library_answer():
    """The checkers' private re-implementations, with no rule swapped, equal the library."""
    from a3c_lib.exercises.actor_critic import _rollouts, _walk
    from a3c_lib.exercises.policy_gradient import _d, _pg
    from a3c_lib.mdp import random_mdp
    from a3c_lib.policy_gradient import exact_policy_gradient
    from a3c_lib.returns import n_step_returns

    for case in _rollouts():
        np.testing.assert_allclose(_walk(*case), n_step_returns(*case))
    mdp, theta = random_mdp(5, 3, rng=0), np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_allclose(_pg(mdp, theta, 0.9, _d(mdp, theta, 0.9)),
                               exact_policy_gradient(mdp, theta, 0.9), atol=1e-12)


def test_nan_and_non_numbers_are_reported():
    assert "nan or inf" in _run("check_weighted_average", lambda p, x: float("nan"))[1]
    assert "returned a str" in _run("check_weighted_average", lambda p, x: "4.5")[1]


def test_the_input_is_not_changed_for_the_next_case():
    def destructive(p, x):
        value = float(np.sum(p * x))
        p[:] = 0.0  # a student writing into the input must not corrupt the checker's cases
        return value

    assert _run("check_weighted_average", destructive)[0].passed


def test_a_hint_never_shows_the_expected_number():
    # case 1 is the loaded die, E[X] = 4.5 and Var[X] = 3.25; a wrong answer must not reveal them
    for checker, wrong in (("check_weighted_average", lambda p, x: 4.0),
                           ("check_weighted_average", lambda p, x: float(np.mean(x))),
                           ("check_variance", lambda p, x: 3.0)):
        message = _run(checker, wrong)[1]
        assert "4.5" not in message and "3.25" not in message, message


def test_the_result_shows_nothing_more_in_a_notebook():
    result, _ = _run("check_weighted_average", weighted_average)
    assert result._ipython_display_() is None  # IPython calls this instead of printing a repr


def _solution_notebook_code(path: pathlib.Path) -> list[str]:
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


SOLUTION_NOTEBOOKS = sorted(SOLUTIONS_DIR.glob("*_exercises_solutions.ipynb"))


def test_there_is_a_solutions_notebook_per_lesson():
    assert [p.name[:2] for p in SOLUTION_NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=[p.name for p in SOLUTION_NOTEBOOKS])
def test_the_worked_solutions_pass_and_the_mistakes_get_their_hints(path):
    """Run the code cells of a solutions notebook in order, cell by cell: each solution's check
    says ✅, each "typical mistake" cell gets ❌ with the hint it announces."""
    namespace: dict = {}
    n_solutions = n_mistakes = 0
    for source in _solution_notebook_code(path):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 (our own notebook)
        out = buffer.getvalue()
        announced = re.search(r'expected hint: "([^"]+)"', source)
        if announced:
            n_mistakes += 1
            assert out.startswith("❌ not yet: ") and announced.group(1) in out, out
        elif re.search(r"^check_\w+\(", source, re.M):
            n_solutions += 1
            assert out.startswith("✅ correct — "), out
        else:
            assert "❌" not in out and "✅" not in out, out
    assert n_solutions >= 1 and n_mistakes == n_solutions

def test_a_float32_answer_is_accepted():
    def float32_gradient(logits, actions, adv):
        return policy_logit_gradient(logits.astype(np.float32), actions,
                                     adv.astype(np.float32)).astype(np.float32)

    assert _run("check_policy_logit_gradient", float32_gradient)[0].passed



def test_the_checkers_do_not_import_tensorflow():
    import sys

    from process_helpers import group_run

    code = "import sys, a3c_lib.exercises; print('tensorflow' in sys.modules)"
    out = group_run([sys.executable, "-c", code], timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
