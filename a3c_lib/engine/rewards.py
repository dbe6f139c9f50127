"""The rewards the learner sees: r̃ = clip(reward_scale · r, −reward_clip, reward_clip).

Why scale rewards at all? The critic regresses V(s) onto returns G, and the policy gradient is
weighted by the advantage A = G − V. Both live in the units of the reward:

* the critic's target — Acrobot pays −1 per step, so G ≈ −1/(1 − γ) ≈ −100 at γ = 0.99, while a
  freshly initialised V(s) is ≈ 0. The squared error (G − V)² ≈ 10⁴ makes the value loss dwarf
  the policy loss; with the gradient-norm clip the shared trunk then follows the critic alone
  and the actor hardly moves (measured in notebook 09: Acrobot stays at −500 without scaling);
* the advantage's magnitude — the actor's step is ∝ A · ∇log π. With |A| in the hundreds, one
  rollout's gradient is either clipped (so its direction is all that is left) or, unclipped,
  throws π to a near-deterministic corner from which it no longer explores.

Multiplying every reward by c multiplies G, V* and A by c and changes nothing about WHICH policy
is optimal, so scaling is a free choice of units; we pick c so that returns are O(1–10).
Clipping to [−1, 1] is the paper's recipe for Atari (one set of hyperparameters for games whose
scores differ by orders of magnitude); it DOES change the task (a crash and a scratch cost the
same), which is why it is off by default here.

Episode returns reported to the metrics, the dashboard and the stopping rule are always the
RAW ones: only the learner's copy is transformed.
"""

from __future__ import annotations

import numpy as np


def shape_rewards(rewards: np.ndarray, reward_scale: float = 1.0,
                  reward_clip: float | None = None) -> np.ndarray:
    """clip(reward_scale · r, −reward_clip, reward_clip), a new array of rewards' shape (T, N).

    >>> shape_rewards(np.array([[-1.0, 100.0]]), reward_scale=0.01)
    array([[-0.01,  1.  ]])
    >>> shape_rewards(np.array([[-3.0, 0.5]]), reward_clip=1.0)  # the paper's Atari clip
    array([[-1. ,  0.5]])
    """
    shaped = rewards * reward_scale  # (T, N)
    if reward_clip is not None:
        np.clip(shaped, -reward_clip, reward_clip, out=shaped)
    return shaped
