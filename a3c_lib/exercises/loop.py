"""Exercise of notebook 05: write the body of the actor-critic loop yourself.

The checker runs the student's ``actor_critic_update(spec, theta, g, env, obs, rng, hp)`` for a
fixed number of updates from a fixed seed, next to the library's tested
:func:`a3c_lib.actor_critic.actor_critic_update`, and compares the parameters θ (and RMSProp's g).
If they differ it replays known mistakes — each one the reference loop with ONE rule changed —
and names the one that reproduces the student's θ. It never prints the code or the numbers.
"""

from __future__ import annotations

import numpy as np

from a3c_lib.actor_critic import LoopConfig, actor_critic_update, make_env
from a3c_lib.exercises._report import NOT_WRITTEN, CheckResult, report
from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.returns import n_step_returns

#: The checker's setting: a small network, a short time limit so that BOTH kinds of episode end
#: occur (a random CartPole policy falls after ~20 steps: terminated; the limit 12: truncated),
#: and a clip small enough to act.
CHECK_HP = LoopConfig(t_max=5, gamma=0.9, lr=1e-2, entropy_coef=0.01, value_coef=0.5,
                      max_grad_norm=0.5)
CHECK_UPDATES, CHECK_SEED, CHECK_HIDDEN, CHECK_TIME_LIMIT = 40, 7, (16,), 12


def mistaken_update(spec, theta, g, env, obs, rng, hp, mistake: str | None = None):
    """The reference loop body with one known ``mistake`` (None: exactly the reference)."""
    T = hp.t_max
    states, actions, rewards = np.zeros((T, spec.obs_dim)), np.zeros(T, np.int64), np.zeros(T)
    terminated, truncated = np.zeros(T, bool), np.zeros(T, bool)
    values, next_values = np.zeros(T), np.zeros(T)  # (T,) V(s_t), V(s'_t)
    for t in range(T):
        logits, v = mlp.forward(spec, theta, obs[None])  # (1, A), (1,)
        actions[t] = mlp.sample_actions(logits, rng)[0]
        states[t], values[t] = obs, v[0]
        obs, rewards[t], terminated[t], truncated[t], _ = env.step(actions[t])
        if terminated[t] or truncated[t]:
            next_values[t] = values[t] if mistake == "v_of_s" else \
                mlp.forward(spec, theta, obs[None])[1][0]
            obs, _ = env.reset()
    if not (terminated[-1] or truncated[-1]):
        next_values[-1] = values[-1] if mistake == "v_of_s" else \
            mlp.forward(spec, theta, obs[None])[1][0]
    if mistake == "no_last_bootstrap" and not truncated[-1]:
        next_values[-1] = 0.0
    if mistake == "truncated_as_terminated":
        terminated, truncated = terminated | truncated, np.zeros(T, bool)
    gamma = 1.0 if mistake == "no_gamma" else hp.gamma
    returns = n_step_returns(rewards, terminated, truncated, next_values, gamma)  # (T,)
    target = {"advantage": returns - values, "rewards": rewards}.get(mistake, returns)
    c_h, c_v = hp.entropy_coef, hp.value_coef
    if mistake == "swapped_coefs":
        c_h, c_v = c_v, c_h
    _, grad = mlp.loss_and_grad(spec, theta, states, actions, target, c_h, c_v)
    if mistake != "no_clip":
        clip_grad_norm(grad, hp.max_grad_norm)
    rmsprop_update(theta, g, -grad if mistake == "ascent" else grad, hp.lr, hp.rms_alpha,
                   hp.rms_eps)
    return obs, None


#: (mistake, hint): the hint names the rule that differs, never the code that fixes it.
MISTAKES = [
    ("ascent", "θ moves UP the loss: the loss is what gradient descent minimises, and "
               "rmsprop_update already subtracts η·∇L/√(g + ε) — pass the gradient as it is"),
    ("advantage", "you passed the advantage G − V where loss_and_grad expects the RETURNS G_t: "
                  "it forms A = G − V itself and holds it constant (the stop-gradient)"),
    ("rewards", "the targets are the n-step returns G_t, not the single rewards r_t"),
    ("truncated_as_terminated", "bootstrap on truncation: a time limit is not a fall, the state "
                                "still has a future worth γ·V(s'_t) — keep the two flags apart"),
    ("no_last_bootstrap", "the rollout's last step must bootstrap from V(s_T), the value of "
                          "the observation the next rollout starts from"),
    ("v_of_s", "the bootstrap needs V(s'_t), the value of the observation AFTER step t, not "
               "V(s_t) of the one the action was chosen in"),
    ("no_gamma", "the n-step returns are discounted: pass hp.gamma"),
    ("swapped_coefs", "entropy_coef and value_coef are swapped: pass them by name"),
    ("no_clip", "clip the gradient's norm to hp.max_grad_norm before the RMSProp step"),
]


def _run(update, hp=CHECK_HP, n_updates=CHECK_UPDATES, **kwargs):
    """θ and g after ``n_updates`` calls of ``update`` from the checker's fixed seed."""
    env = make_env(max_episode_steps=CHECK_TIME_LIMIT)
    spec = mlp.MLPSpec(4, 2, hidden=CHECK_HIDDEN)
    rng = np.random.default_rng(CHECK_SEED)
    theta = mlp.init_theta(spec, rng)  # (P,)
    g = np.zeros_like(theta)  # (P,)
    obs, _ = env.reset(seed=CHECK_SEED)
    for _ in range(n_updates):
        out = update(spec, theta, g, env, obs, rng, hp, **kwargs)
        obs = out[0] if isinstance(out, tuple) and len(out) else out
        if obs is None:
            raise _NoObservation
        obs = np.asarray(obs)
        if obs.shape != (spec.obs_dim,):
            raise _WrongShape(obs.shape)
    env.close()
    return theta, g


class _NoObservation(Exception):
    """The student's function returned no observation to continue from."""


class _WrongShape(Exception):
    """The student's function returned something else than one observation (obs_dim,)."""


def _same(a, b) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def check_actor_critic_update(actor_critic_update_fn) -> CheckResult:
    """Check the loop body ``actor_critic_update(spec, theta, g, env, obs, rng, hp)``.

    It must act ``hp.t_max`` steps with a ~ π_θ, learn from them with ONE RMSProp step on θ and
    g (in place), and return the next observation (optionally with the loss statistics).

    >>> check_actor_critic_update(actor_critic_update).passed  # doctest: +ELLIPSIS
    ✅ correct — ...
    True
    >>> wrong = lambda *args: mistaken_update(*args, mistake="ascent")
    >>> check_actor_critic_update(wrong).passed  # doctest: +ELLIPSIS
    ❌ not yet: θ moves UP the loss: ...
    False
    """
    if not callable(actor_critic_update_fn):
        return report(False, "pass your function itself, e.g. "
                             "check_actor_critic_update(actor_critic_update) — without calling it")
    where = f"{CHECK_UPDATES} updates of t_max={CHECK_HP.t_max} from seed {CHECK_SEED}"
    inputs = (f"case 1 of 1, inputs: theta and g shape (P,), obs shape (4,), "
              f"hp.t_max={CHECK_HP.t_max}; {where}")
    try:
        theta, g = _run(actor_critic_update_fn)
    except NotImplementedError:
        return report(False, NOT_WRITTEN)
    except _NoObservation:
        return report(False, f"{NOT_WRITTEN} (it returned None: did you forget "
                             "`return obs, stats`?)")
    except _WrongShape as err:
        return report(False, f"your function returned an array of shape {err.args[0]}, expected "
                             f"an observation of shape (4,): `return obs, stats` ({inputs})")
    except Exception as err:  # any bug in the student's code becomes one friendly line
        return report(False, f"your function raised {type(err).__name__}: {err} ({inputs})")
    theta_ref, g_ref = _run(actor_critic_update)
    if _same(theta, theta_ref) and _same(g, g_ref):
        return report(True, f"θ and RMSProp's g equal the reference loop's after {where}: "
                            "act with π, bootstrap right, n-step returns, one clipped RMSProp step")
    theta_0, _ = _run(lambda *args: args[4], n_updates=1)  # θ as initialised, never updated
    if not np.all(np.isfinite(theta)):
        return report(False, f"θ became nan or inf ({where})")
    if _same(theta, theta_0):
        return report(False, "θ never changed: update theta and g IN PLACE (rmsprop_update does; "
                             "`theta = …` only rebinds your local name)")
    for mistake, hint in MISTAKES:
        theta_m, g_m = _run(mistaken_update, mistake=mistake)
        if _same(theta, theta_m) and _same(g, g_m):
            return report(False, f"{hint} ({where})")
    return report(False, "θ differs from the reference loop's. Check, in order: one sampled action "
                         "per step with mlp.sample_actions(logits, rng) (no other use of rng), "
                         "reset when an episode ends, V(s'_t) at episode ends and at the last "
                         f"step, then returns → loss_and_grad → clip → rmsprop_update ({where})")
