"""The thought generator and selection: which plans come to mind, and which one is taken.

``fixed_choice`` is a control, not a learner: it takes one plan with a set probability,
whatever the valence says, so that a run can hold behaviour fixed while beliefs learn.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from brainlike.core import attention


def propose(key, mode: str, available, prev_plan, n_sampled: int, salience=None) -> jax.Array:
    """Boolean ``[P]``: the plans thought of now.

    ``all``: every available plan; ``sampled``: ``n_sampled`` of them at random; ``local``:
    the available neighbours of the last chosen plan (plans are ordered, as on a path);
    ``learned``: each with probability ``sigmoid(salience)`` (``attention.draw``).
    """
    if mode == "all":
        return available
    if mode == "learned":
        return attention.draw(key, salience, available)
    if mode == "sampled":
        noise = jnp.where(available, jax.random.uniform(key, available.shape), -1.0)
        rank = jnp.argsort(jnp.argsort(-noise))
        return available & (rank < n_sampled)
    near = available & (jnp.abs(jnp.arange(available.shape[0]) - prev_plan) <= 1)
    return jnp.where(near.any(), near, available)


def boltzmann(values, proposal, temperature) -> jax.Array:
    """Selection probabilities ``softmax(V / tau)`` over the proposed plans."""
    return jax.nn.softmax(jnp.where(proposal, values / temperature, -jnp.inf))


def select(key, mode: str, values, proposal, temperature) -> jax.Array:
    """The chosen plan: Boltzmann, or the first proposal in random order whose valence is positive."""
    key_order, key_pick = jax.random.split(key)
    logits = jnp.where(proposal, values / temperature, -jnp.inf)
    plan = jax.random.categorical(key_pick, logits)
    if mode == "keep_if_positive":
        order = jax.random.permutation(key_order, values.shape[0])
        good = (proposal & (values > 0))[order]
        plan = jnp.where(good.any(), order[jnp.argmax(good)], plan)
    return plan


def fixed_choice(key, available, plan: int, p) -> jax.Array:
    """``plan`` with probability ``p`` (if available), else a uniformly random other available plan."""
    key_coin, key_other = jax.random.split(key)
    others = available & (jnp.arange(available.shape[0]) != plan)
    other = jax.random.categorical(key_other, jnp.where(others, 0.0, -jnp.inf))
    take = (jax.random.bernoulli(key_coin, p) & available[plan]) | ~others.any()
    return jnp.where(take, plan, other)
