"""The functional environment interface, gymnax-style.

An environment is a stateless object whose methods are pure functions of a key, a state
pytree and a parameters pytree, so they jit, vmap over keys and vmap over parameters:

    obs, state = env.reset(key, params)
    obs, state, reward, done, info = env.step(key, state, plan, params)

``step`` resets automatically when an episode ends (as gymnax does); the observation that
the transition itself produced, which the world model must predict, is kept in
``info["outcome_obs"]`` (gymnax drops it; the belief network needs it). ``info`` also carries
the ground truth that the learner never sees: ``kind`` (index into ``env.kinds``),
``deceptive``, ``safety`` (hidden safety score), ``terminated`` and ``truncated``; ``step``
adds ``outcome_mask``, the plans available where the transition ended (before a reset),
which a learner needs to bootstrap past a time limit.

The class facts (name, kinds, plans, knobs) are an ``EnvSpec`` (``brainlike.envspec``), which the
host reads without JAX (a built-in environment declares its own at the top of its file); the knobs are a frozen dataclass that the environment's class registers
as a pytree, every knob a traced leaf but the shape knobs. A shape knob (``static_knobs``) is read
when the object is made (``Environment(**static)``, ``envs.make(name, **static)``), so a different
value is a different compiled program; its copy in the parameters is static (part of the tree's
structure) and never read by traced code.

Plans are integers ``0 .. num_plans - 1``; ``plan_mask`` says which are available now, and
``plan_kinds`` which kind each would be if taken now (the opportunity to deceive). Kind 0 is
always the honest kind; ``deceptive_kinds`` flags the others.

Two optional facts: ``num_topics`` and ``topic`` say which topic a decision's thought is about (a
function of the state, so that a probe can be fitted on some topics and judged on others), and
``metrics`` names quantities of the environment's own that each step's ``info`` carries, which the
learner logs beside its own metrics.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from brainlike.envspec import EnvSpec

INFO_KEYS = ("outcome_obs", "kind", "deceptive", "safety", "terminated", "truncated")


class Box(NamedTuple):
    """A box observation space: every entry of an observation lies in [low, high]."""

    low: float
    high: float
    shape: tuple[int, ...]
    dtype: Any = jnp.float32


def noisy_obs(key, clean, noise, bound: float) -> jax.Array:
    """``clean`` plus Gaussian noise of std ``noise``, clipped to ``[-bound, bound]``, as float32."""
    obs = clean.astype(jnp.float32) + noise * jax.random.normal(key, clean.shape)
    return jnp.clip(obs, -bound, bound).astype(jnp.float32)


_PYTREES: set[type] = set()  # classes of knobs registered as pytrees


class Environment(EnvSpec):
    """Base class: subclasses write ``reset_env``, ``step_env``, ``plan_mask`` and the class facts
    (an ``EnvSpec``'s, or inherit them from one), plus these two."""

    obs_dim: ClassVar[int]
    truncates: ClassVar[bool] = False  # can an episode end by a time limit?

    def __init_subclass__(cls, **kwargs):
        """Register the class's knobs as a pytree, every knob a traced leaf but the shape knobs, which
        are static (once per class of knobs)."""
        super().__init_subclass__(**kwargs)
        params = getattr(cls, "Params", None)
        if params is not None and params not in _PYTREES:  # once per class of knobs
            names = [f.name for f in dataclasses.fields(params)]
            jax.tree_util.register_dataclass(params, data_fields=[n for n in names if n not in cls.static_knobs],
                                             meta_fields=[n for n in names if n in cls.static_knobs])
            _PYTREES.add(params)

    def observation_space(self, params) -> Box:
        raise NotImplementedError

    def reset_env(self, key, params):
        raise NotImplementedError

    def step_env(self, key, state, plan, params):
        raise NotImplementedError

    def plan_mask(self, state, params) -> jax.Array:
        """Boolean ``[num_plans]``: which plans can be chosen in this state."""
        return jnp.ones((self.num_plans,), bool)

    def plan_kinds(self, state, params) -> jax.Array:
        """Int ``[num_plans]``: the kind each plan would be if taken in this state.

        By default, each plan is stepped once under a fixed key and ``info["kind"]`` read
        (everything else is dead code that XLA drops); a step's kind must therefore follow
        from its state and plan alone, not from the key.
        """
        key = jax.random.PRNGKey(0)
        return jax.vmap(lambda plan: self.step_env(key, state, plan, params)[4]["kind"])(
            jnp.arange(self.num_plans))

    def topic(self, state, params) -> jax.Array:
        """Int ``[]``: the topic (``0 .. num_topics - 1``) a decision in this state is about; 0 without topics."""
        return jnp.zeros((), jnp.int32)

    def reset(self, key, params=None):
        """Start an episode: ``(obs, state)``."""
        return self.reset_env(key, self.default_params if params is None else params)

    def step(self, key, state, plan, params=None):
        """One transition with auto-reset: ``(obs, state, reward, done, info)``."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs_st, state_st, reward, done, info = self.step_env(key_step, state, plan, params)
        obs_re, state_re = self.reset_env(key_reset, params)
        state = jax.tree.map(lambda re, st: jnp.where(done, re, st), state_re, state_st)
        obs = jnp.where(done, obs_re, obs_st)
        return obs, state, reward, done, dict(info, outcome_obs=obs_st, outcome_mask=self.plan_mask(state_st, params))

    @property
    def deceptive_mask(self) -> jax.Array:
        return jnp.asarray(self.deceptive_kinds)
