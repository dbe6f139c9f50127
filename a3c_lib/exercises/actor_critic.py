"""Exercises of notebook 05: the n-step return, and the actor's gradient for the logits."""

from __future__ import annotations

import numpy as np

from a3c_lib.exercises._report import CheckResult, check_function
from a3c_lib.nn.mlp import MLPSpec, loss_and_grad, unflatten
from a3c_lib.returns import n_step_returns


def _walk(r, te, tr, v, gamma, *, term_boot=False, trunc_boot=True, cut_term=True,
          cut_trunc=True, last_boot=True, shift=False, gamma_boot=None):
    """G_t walked backwards with one rule of the library swapped out: a known wrong variant.

    Defaults give the right answer (the library's rules): follow = V(s'_t) at an episode end or
    the rollout's end (0 if terminated), G_{t+1} otherwise; G_t = r_t + γ·follow.
    """
    out, g = np.empty(len(r)), 0.0  # (T,)
    for t in reversed(range(len(r))):
        if te[t] and cut_term:
            follow, boot = (v[t] if term_boot else 0.0), True
        elif tr[t] and cut_trunc:
            follow, boot = (v[t] if trunc_boot else 0.0), True
        elif t == len(r) - 1:
            follow, boot = (v[t] if last_boot else 0.0), True
        else:
            follow, boot = g, False
        discount = gamma_boot if (boot and gamma_boot is not None) else gamma
        g = gamma * (r[t] + follow) if shift else r[t] + discount * follow
        out[t] = g
    return out


def _rollouts():
    """(rewards, terminated, truncated, next_values, gamma): every kind of episode end."""
    rng = np.random.default_rng(505)
    f, t = False, True
    flags = [([f, f, t, f, f], [f, f, f, f, f]),  # terminated in the middle
             ([f, f, f, f, f], [f, t, f, f, f]),  # truncated in the middle
             ([f, f, f, f], [f, f, f, f]),  # no end: bootstrap at the rollout's end only
             ([f, t, f, t], [f, f, t, f]),  # all three
             ([f, f, f, f, f, f], [f, f, f, f, f, t])]  # truncated at the last step
    cases = []
    for (term, trunc), gamma in zip(flags, (0.9, 0.5, 0.8, 0.99, 0.7), strict=True):
        n = len(term)
        cases.append((rng.normal(1.0, 1.0, size=n), np.array(term), np.array(trunc),
                      rng.normal(3.0, 1.0, size=n), gamma))
    return cases


def check_n_step_return(n_step_return) -> CheckResult:
    """Check ``n_step_return(rewards, terminated, truncated, next_values, gamma)``, shape (T,).

    >>> def no_bootstrap_on_truncation(r, term, trunc, v_next, gamma):
    ...     return n_step_returns(r, term | trunc, np.zeros_like(trunc), v_next, gamma)
    >>> check_n_step_return(no_bootstrap_on_truncation).passed  # doctest: +ELLIPSIS
    ❌ not yet: missing bootstrap on truncation: ... (case 2 of 5, ...)
    False
    """
    def variant(**rule):
        return lambda r, te, tr, v, gamma: _walk(r, te, tr, v, gamma, **rule)

    return check_function(
        n_step_return, name="n_step_return",
        arg_names=["rewards", "terminated", "truncated", "next_values", "gamma"],
        cases=_rollouts(), reference=n_step_returns,
        variants=[
            ("missing bootstrap on truncation: a time limit is not a terminal state, the "
             "state still has a future worth γ·V(s'_t)", variant(trunc_boot=False)),
            ("bootstrapped through a terminal step: V(terminal) = 0, so a terminated step "
             "adds nothing after its reward", variant(term_boot=True)),
            ("the return crosses an episode end: the NEXT episode's G_{t+1} must not flow "
             "back into this one", variant(cut_term=False)),
            ("the return crosses an episode end: at a truncated step, bootstrap from "
             "V(s'_t) instead of using the next episode's G_{t+1}", variant(cut_trunc=False)),
            ("the rollout's last step must bootstrap from V(s'_{T−1}) (unless it terminated)",
             variant(last_boot=False)),
            ("off-by-one in the discount: the first reward r_t counts fully (γ⁰ = 1), the "
             "next one γ¹, …", variant(shift=True)),
            ("off-by-one in the discount: the bootstrap value after k rewards needs γ^k, one "
             "more γ than the last reward", variant(gamma_boot=1.0)),
            ("you forgot the discount γ", lambda r, te, tr, v, gamma: _walk(r, te, tr, v, 1.0)),
            ("you returned the rewards: G_t adds the discounted rewards (and bootstrap) that "
             "follow step t", lambda r, te, tr, v, gamma: r),
        ],
        generic_hint="walk backwards: G_t = r_t + γ·(V(s'_t) at an episode end or the rollout's "
                     "end, G_{t+1} otherwise), and V(terminal) = 0",
        shape_note="(one return per step of the rollout)",
        success="terminated → 0, truncated → bootstrap, and the rollout's end → bootstrap")


def _library_d_logits(logits, actions, advantage):
    """d policy_loss / d logits from the library's backprop (:func:`a3c_lib.nn.mlp.loss_and_grad`).

    A network with no hidden layer fed one-hot observations obs = I_B has logits_b = W_pi[b]
    (biases 0) and V = 0 (value head 0), so returns = advantage and d loss / d W_pi = d / d logits.
    """
    batch, n_actions = logits.shape
    spec = MLPSpec(obs_dim=batch, n_actions=n_actions, hidden=())
    theta = np.zeros(spec.n_params)  # (P,)
    unflatten(spec, theta)["W_pi"][...] = logits  # (B, A)
    _, grad = loss_and_grad(spec, theta, np.eye(batch), actions, advantage,
                            entropy_coef=0.0, value_coef=0.0)
    return grad[: batch * n_actions].reshape(batch, n_actions)  # W_pi comes first  (B, A)


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))  # (B, A)
    return e / e.sum(axis=1, keepdims=True)


def check_policy_logit_gradient(policy_logit_gradient) -> CheckResult:
    """Check ``policy_logit_gradient(logits, actions, advantage)``, shape (B, A).

    It is d/d logits of policy_loss = −mean_b(log π(a_b|s_b)·A_b), with A_b a constant.

    >>> check_policy_logit_gradient(lambda lg, a, adv: -_library_d_logits(lg, a, adv)).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: the sign is flipped: ... (case 1 of 3, ...)
    False
    """
    rng = np.random.default_rng(506)
    cases = [(rng.normal(0.0, 1.0, size=(b, n_a)), rng.integers(0, n_a, size=b),
              rng.normal(0.0, 2.0, size=b)) for b, n_a in ((3, 3), (5, 2), (4, 6))]

    def onehot(logits, actions):
        return np.eye(logits.shape[1])[actions]  # (B, A)

    return check_function(
        policy_logit_gradient, name="policy_logit_gradient",
        arg_names=["logits", "actions", "advantage"], cases=cases, reference=_library_d_logits,
        variants=[
            ("the sign is flipped: this is the gradient of the LOSS that gradient descent "
             "minimises, −log π(a|s)·A", lambda lg, a, adv: -_library_d_logits(lg, a, adv)),
            ("policy_loss is a MEAN over the batch: divide by the batch size B",
             lambda lg, a, adv: _library_d_logits(lg, a, adv) * len(a)),
            ("you forgot −π: the gradient of log π(a|s) for the logits is onehot(a) − π(·|s)",
             lambda lg, a, adv: -onehot(lg, a) * adv[:, None] / len(a)),
            ("the advantage is missing: each row b is scaled by its own A_b",
             lambda lg, a, adv: -(onehot(lg, a) - _softmax(lg)) / len(a)),
            ("each row b must be scaled by its own A_b: use advantage[:, None]",
             lambda lg, a, adv: -(onehot(lg, a) - _softmax(lg)) * adv[None, :] / len(a)),
        ],
        generic_hint="row b is −(onehot(a_b) − π(·|s_b))·A_b / B",
        shape_note="(one row per sample, one column per action, like logits)",
        success="−(onehot(a) − π)·A/B: the same gradient as the tape and the numpy backprop")
