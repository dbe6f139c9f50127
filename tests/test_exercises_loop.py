"""The loop exercise of notebook 05: right loop bodies pass, plausible wrong ones get their hint."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.actor_critic import LoopConfig, actor_critic_update, make_env, train
from a3c_lib.exercises import check_actor_critic_update
from a3c_lib.exercises.loop import MISTAKES, mistaken_update
from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.returns import n_step_returns


def student_update(spec, theta, g, env, obs, rng, hp, *, flip=False, advantage=False,
                   trunc_is_term=False, skip_clip=False, in_place=True):
    """A loop body written the way a student might: lists, int actions, a `done` flag."""
    states, actions, rewards, terms, truncs, v_next = [], [], [], [], [], []
    for _ in range(hp.t_max):
        logits, v = mlp.forward(spec, theta, np.asarray(obs)[None, :])
        a = int(mlp.sample_actions(logits, rng)[0])
        states.append(np.array(obs, dtype=float))
        actions.append(a)
        obs, r, term, trunc, _info = env.step(a)
        if trunc_is_term:
            term, trunc = term or trunc, False
        rewards.append(r)
        terms.append(term)
        truncs.append(trunc)
        done = term or trunc
        v_next.append(mlp.forward(spec, theta, np.asarray(obs)[None, :])[1][0] if done else 0.0)
        if done:
            obs, _info = env.reset()
    if not (terms[-1] or truncs[-1]):
        v_next[-1] = mlp.forward(spec, theta, np.asarray(obs)[None, :])[1][0]
    G = n_step_returns(np.array(rewards), np.array(terms), np.array(truncs), np.array(v_next),
                       hp.gamma)
    S = np.array(states)
    if advantage:  # "the actor needs the advantage", computed by hand
        G = G - mlp.forward(spec, theta, S)[1]
    stats, grad = mlp.loss_and_grad(spec, theta, S, np.array(actions), G,
                                    entropy_coef=hp.entropy_coef, value_coef=hp.value_coef)
    if not skip_clip:
        clip_grad_norm(grad, hp.max_grad_norm)
    if flip:  # "policy gradient ASCENT"
        grad = -grad
    if in_place:
        rmsprop_update(theta, g, grad, hp.lr, hp.rms_alpha, hp.rms_eps)
    else:
        theta = theta - hp.lr * grad  # rebinds a local name: the caller's θ never changes
    return obs, stats


def test_the_reference_and_an_independent_right_body_pass(capsys):
    assert check_actor_critic_update(actor_critic_update).passed
    assert check_actor_critic_update(student_update).passed
    # returning only the observation is fine too
    assert check_actor_critic_update(lambda *a: student_update(*a)[0]).passed
    assert "✅ correct" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, hint", [
    (dict(flip=True), "θ moves UP the loss"),
    (dict(advantage=True), "stop-gradient"),
    (dict(trunc_is_term=True), "bootstrap on truncation"),
    (dict(skip_clip=True), "clip the gradient's norm"),
    (dict(in_place=False), "θ never changed"),
])
def test_plausible_wrong_bodies_get_their_hint(kwargs, hint, capsys):
    result = check_actor_critic_update(lambda *a: student_update(*a, **kwargs))
    assert not result.passed
    assert hint in result.message
    out = capsys.readouterr().out
    assert "❌ not yet" in out and "rmsprop_update(theta" not in out  # a hint, never the code


@pytest.mark.parametrize("mistake, hint", MISTAKES)
def test_every_known_mistake_is_recognised(mistake, hint):
    result = check_actor_critic_update(
        lambda *a: mistaken_update(*a, mistake=mistake))
    assert not result.passed and hint in result.message


def test_unwritten_broken_and_silent_bodies_get_one_friendly_line():
    def unwritten(*args):
        raise NotImplementedError

    def broken(spec, theta, g, env, obs, rng, hp):
        return theta[1000]

    def silent(spec, theta, g, env, obs, rng, hp):
        student_update(spec, theta, g, env, obs, rng, hp)

    assert "write your function" in check_actor_critic_update(unwritten).message
    assert "raised IndexError" in check_actor_critic_update(broken).message
    assert "forget `return obs" in check_actor_critic_update(silent).message
    assert "pass your function itself" in check_actor_critic_update(None).message


def test_unknown_mistakes_get_the_generic_checklist():
    def greedy(spec, theta, g, env, obs, rng, hp):  # ε-greedy's habit: argmax, not a sample
        original = mlp.sample_actions
        mlp.sample_actions = lambda logits, rng: np.argmax(logits, axis=1)
        try:
            return student_update(spec, theta, g, env, obs, rng, hp)
        finally:
            mlp.sample_actions = original

    def double_lr(spec, theta, g, env, obs, rng, hp):
        return student_update(spec, theta, g, env, obs, rng,
                              LoopConfig(**{**hp.__dict__, "lr": 2 * hp.lr}))

    for wrong in (greedy, double_lr):
        message = check_actor_critic_update(wrong).message
        assert message.startswith("❌ not yet: θ differs from the reference loop's")


def test_train_repeats_the_body_and_is_repeatable():
    hp = LoopConfig(t_max=4)
    a = train(hp, n_updates=30, seed=3, hidden=(8,))
    b = train(hp, n_updates=30, seed=3, hidden=(8,))
    np.testing.assert_array_equal(a.theta, b.theta)
    # the same updates by hand with actor_critic_update
    env, spec = make_env(), mlp.MLPSpec(4, 2, hidden=(8,))
    rng = np.random.default_rng(3)
    theta = mlp.init_theta(spec, rng)
    g = np.zeros_like(theta)
    obs, _ = env.reset(seed=3)
    for _ in range(30):
        obs, _stats = actor_critic_update(spec, theta, g, env, obs, rng, hp)
    np.testing.assert_array_equal(theta, a.theta)
    assert a.steps == 120 and len(a.entropy) == 30
    assert sum(a.episode_returns) <= 120  # finished episodes only


def test_on_update_can_stop_the_loop():
    result = train(LoopConfig(t_max=2), n_updates=100, hidden=(4,),
                   on_update=lambda update, env: update == 4)
    assert result.steps == 10


@pytest.mark.parametrize("field, value, message", [
    ("t_max", 0, "t_max must be an integer >= 1"),
    ("gamma", 1.0, r"gamma must be a finite number \[0, 1\)"),
    ("lr", 0.0, "lr must be a finite number > 0"),
    ("entropy_coef", -1.0, "entropy_coef must be a finite number >= 0"),
    ("max_grad_norm", float("nan"), "max_grad_norm must be a finite number > 0"),
])
def test_bad_hyperparameters_raise_naming_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        LoopConfig(**{field: value})
    with pytest.raises(ValueError, match="n_updates must be an integer >= 1"):
        train(LoopConfig(), n_updates=0)


def test_the_loop_cell_of_notebook_05_is_the_library_loop():
    """Run notebook 05's loop cell (fast-mode budget, no plot) and the library's train()."""
    import json
    import pathlib
    import time

    from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update  # noqa: F401 (the cell uses them)
    from a3c_lib.viz.live_plot import LiveReturns

    path = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "05_actor_critic.ipynb"
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
             if c["cell_type"] == "code"]
    [loop] = [c for c in cells if "for update in range(N_UPDATES):" in c]
    namespace = dict(np=np, mlp=mlp, LoopConfig=LoopConfig, make_env=make_env, time=time,
                     FAST_MODE=True, n_step_returns=n_step_returns, clip_grad_norm=clip_grad_norm,
                     rmsprop_update=rmsprop_update,
                     LiveReturns=lambda **kw: LiveReturns(**kw, show=False))
    exec(compile(loop, str(path), "exec"), namespace)  # noqa: S102 (our own notebook)
    assert namespace["n_updates_done"] == 300
    same = train(namespace["hp"], n_updates=300, seed=namespace["SEED"],
                 hidden=namespace["spec"].hidden)
    np.testing.assert_array_equal(namespace["theta"], same.theta)
