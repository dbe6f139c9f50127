"""Environments beyond gymnasium's classic ones, registered under ids the workers can make.

    atari     Pong (and any ALE game) as in Mnih et al. 2016: 84×84 grey frames, skip 4, stack 4

An id with a module prefix, ``"a3c_lib.envs.atari:PongA3C-v0"``, makes ``gym.make`` (and the
engine's ``make_env``) import the module first, which registers the id — also in a spawned
worker, which has never seen the parent's registrations. Nothing here imports TensorFlow.
"""
