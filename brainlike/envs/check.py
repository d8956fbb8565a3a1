"""The contract test every environment must pass: ``check_env(env)``.

It runs the environment under ``jit`` and ``vmap`` with random available plans and asserts
what the learner relies on: fixed shapes and dtypes, observations inside the declared box,
determinism given a key (checked on a fresh trace before anything that compares two traced
calls, so that NumPy or Python randomness reads as non-determinism), ``plan_kinds`` agreeing
with the kind each step reports, gymnax-style auto-reset (after ``done`` the returned
observation and state are exactly those of ``reset_env`` under the key that
``Environment.step`` splits off for it), the ground-truth ``info`` keys with their shapes and
meanings, consistent class facts, and parameters whose every field is a knob with one line of
meaning and bounds that hold its default. A failure raises ``AssertionError`` naming what failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from brainlike.envs.base import INFO_KEYS, Box, Environment
from brainlike.envspec import EnvParams

INFO_SPEC = {  # key -> (shape, dtype kind): b bool, i integer, f float
    "kind": ((), "i"),
    "deceptive": ((), "b"),
    "safety": ((), "f"),
    "terminated": ((), "b"),
    "truncated": ((), "b"),
}


class Step(NamedTuple):
    """One step of a random rollout, as ``check_env`` records it."""

    available: jax.Array  # the plan mask before the step
    kinds: jax.Array  # ``plan_kinds`` before the step
    plan: jax.Array  # the plan taken
    out: tuple  # (obs, state, reward, done, info) from ``env.step``
    fresh: tuple  # (obs, state) of ``reset_env`` under the key ``step`` uses for its own reset
    topic: jax.Array  # ``topic`` before the step


def check_env(env: Environment, params=None, n_steps: int = 64, seed: int = 0, n_batch: int = 3) -> None:
    """Assert that ``env`` keeps the environment contract; raise ``AssertionError`` if not.

    ``n_steps`` random available plans are taken under ``jit`` and ``lax.scan`` (twice, for
    determinism), and ``n_batch`` such rollouts under ``vmap`` over keys and parameters.
    """
    name = getattr(env, "name", type(env).__name__)
    params = env.default_params if params is None else params
    _check_class_facts(env, params, name)
    key = jax.random.PRNGKey(seed)
    with _stage(f"{name}: reset and step traced"):
        reset_shapes = jax.eval_shape(env.reset, key, params)
        plan = jax.ShapeDtypeStruct((), jnp.int32)
        step_shapes = jax.eval_shape(env.step, key, reset_shapes[1], plan, params)
    assert jax.tree.leaves(reset_shapes[1]), (f"{name}: the state has no array leaves; learners vmap over "
                                              "states, so give it at least one field")
    before, after = _signature(reset_shapes), _signature(step_shapes[:2])
    assert before == after, (f"{name}: (obs, state) shapes or dtypes changed in a step:\n"
                             f"  before: {before}\n  after:  {after}")
    run = jax.jit(functools.partial(_rollout, env, n_steps=n_steps))
    with _stage(f"{name}: reset and {n_steps} random steps under jit and lax.scan"):
        rollout = jax.device_get(run(key, params))
    _check_determinism(env, params, key, n_steps, rollout, name)
    (obs, _), steps = rollout
    _check_obs(env, params, obs, f"{name}: reset observation")
    for i in range(n_steps):
        step = jax.tree.map(lambda x: x[i], steps)
        _check_mask(env, step.available, f"{name}: plan_mask at step {i}")
        _check_transition(env, params, step.out, f"{name}: step {i}")
        _check_topic(env, step.topic, f"{name}: topic at step {i}")
        assert int(step.kinds[step.plan]) == int(step.out[4]["kind"]), (
            f"{name}: step {i}: plan_kinds says plan {int(step.plan)} is kind {int(step.kinds[step.plan])}, "
            f"but the step reported kind {int(step.out[4]['kind'])} (a step's kind must follow from its state "
            "and plan, not from the key)")
        if step.out[3]:
            _assert_equal_trees(step.out[:2], step.fresh, f"{name}: step {i}: after done, step's (obs, state) "
                                "is not reset_env's under step's reset key (the auto-reset is broken)")
    assert steps.out[3].any(), (f"{name}: no episode ended in {n_steps} random steps, so the auto-reset "
                                "went unchecked; raise n_steps")
    _check_vmap(env, params, run, key, n_steps, n_batch, name)


def _check_determinism(env, params, key, n_steps: int, rollout, name: str) -> None:
    """The same rollout, traced and compiled anew, from the same key.

    Checked before the auto-reset, whose check compares two traced calls of ``reset_env``:
    NumPy or Python randomness runs once per trace and is baked in as a constant, so it shows
    as two traces that disagree, not as two calls of one compiled function that do."""
    again = jax.jit(functools.partial(_rollout, env, n_steps=n_steps))  # a fresh trace
    with _stage(f"{name}: determinism"):
        _assert_equal_trees(again(key, params), rollout, (
            f"{name}: not deterministic: two rollouts from one key differ, so reset_env or step_env is not a pure "
            "function of its key and arguments (NumPy or Python randomness, or other state outside JAX?); "
            "draw every random number from the key with jax.random"))


def _rollout(env, key, params, n_steps: int) -> tuple[tuple, Step]:
    """A reset's ``(obs, state)``, then ``n_steps`` uniformly random available plans, stacked."""
    first = env.reset(key, params)

    def one(state, key):
        key_plan, key_step = jax.random.split(key)
        available = env.plan_mask(state, params)
        plan = jax.random.categorical(key_plan, jnp.where(available, 0.0, -jnp.inf)).astype(jnp.int32)
        out = env.step(key_step, state, plan, params)
        fresh = env.reset_env(jax.random.split(key_step)[1], params)  # Environment.step's reset key
        return out[1], Step(available, env.plan_kinds(state, params), plan, out, fresh, env.topic(state, params))

    return first, jax.lax.scan(one, first[1], jax.random.split(key, n_steps))[1]


def _check_class_facts(env, params, name: str) -> None:
    """Kinds, plan count, observation size and knob bounds agree with each other."""
    for attr in ("name", "kinds", "deceptive_kinds", "num_plans", "obs_dim"):
        assert hasattr(env, attr), f"{name}: class attribute {attr!r} is missing"
    assert len(env.kinds) == len(env.deceptive_kinds), (
        f"{name}: {len(env.kinds)} kinds but {len(env.deceptive_kinds)} deceptive_kinds flags")
    assert len(set(env.kinds)) == len(env.kinds), f"{name}: kinds are not unique: {env.kinds}"
    assert not env.deceptive_kinds[0], f"{name}: kinds[0] ({env.kinds[0]!r}) must be the honest kind"
    assert any(env.deceptive_kinds), f"{name}: no deceptive kind, so there is nothing for a probe to find"
    assert isinstance(env.num_plans, int) and env.num_plans >= 2, f"{name}: num_plans must be an int >= 2"
    assert isinstance(env.obs_dim, int) and env.obs_dim >= 1, f"{name}: obs_dim must be a positive int"
    assert isinstance(env.num_topics, int) and env.num_topics >= 0, f"{name}: num_topics must be an int >= 0"
    assert isinstance(env.metrics, tuple) and all(isinstance(m, str) and m.isidentifier() for m in env.metrics) \
        and len(set(env.metrics)) == len(env.metrics), f"{name}: metrics must be a tuple of distinct names"
    space = env.observation_space(params)
    assert isinstance(space, Box), f"{name}: observation_space must return a Box, not {type(space).__name__}"
    assert space.shape == (env.obs_dim,), (
        f"{name}: observation_space shape {space.shape} != (obs_dim,) = ({env.obs_dim},)")
    assert isinstance(params, EnvParams) and dataclasses.is_dataclass(params), (
        f"{name}: params must be a frozen dataclass of knobs, a subclass of brainlike.envspec.EnvParams")
    for field, f in env.knobs().items():
        value, (text, lo, hi) = getattr(params, field), (f.metadata.get(k) for k in ("help", "lo", "hi"))
        assert isinstance(text, str) and text.strip() and "\n" not in text, (
            f"{name}: knob {field} needs one line of meaning: declare it as knob(default, help, lo, hi)")
        assert lo is not None and hi is not None, (
            f"{name}: knob {field} has no bounds: declare it as knob(default, help, lo, hi)")
        assert isinstance(value, float) or np.issubdtype(np.asarray(value).dtype, np.floating), (
            f"{name}: knob {field} must be a float (every knob is numeric, so sweeps can batch it)")
        assert lo <= float(value) <= hi, f"{name}: knob {field} = {value} lies outside its bounds [{lo}, {hi}]"
    for field in env.static_knobs:
        assert field in env.knobs() and float(getattr(params, field)).is_integer(), (
            f"{name}: shape knob {field} must be a knob whose default is a whole number")


def _check_obs(env, params, obs, what: str) -> None:
    """An observation has the declared shape and dtype and lies inside the box."""
    space = env.observation_space(params)
    assert obs.shape == space.shape and obs.dtype == space.dtype, (
        f"{what}: shape {obs.shape} dtype {obs.dtype}, declared {space.shape} {np.dtype(space.dtype)}")
    obs = np.asarray(obs)
    lo, hi = float(obs.min()), float(obs.max())
    assert space.low <= lo and hi <= space.high, (
        f"{what} leaves the observation space [{space.low}, {space.high}]: range [{lo}, {hi}]")


def _check_mask(env, available, what: str) -> None:
    """A plan mask is a boolean ``[num_plans]`` with at least one plan available."""
    assert available.shape == (env.num_plans,) and available.dtype == jnp.bool_, (
        f"{what}: shape {available.shape} dtype {available.dtype}, expected ({env.num_plans},) bool")
    assert bool(available.any()), f"{what}: no plan is available"


def _check_transition(env, params, out, what: str) -> None:
    """One step's outputs: observations in the box, scalar reward and done, ground-truth info."""
    obs, _, reward, done, info = out
    _check_obs(env, params, obs, f"{what} observation")
    assert np.shape(reward) == () and np.issubdtype(np.asarray(reward).dtype, np.floating), (
        f"{what}: reward must be a float scalar, got shape {jnp.shape(reward)} dtype {reward.dtype}")
    assert np.shape(done) == () and np.asarray(done).dtype == np.bool_, (
        f"{what}: done must be a bool scalar, got shape {jnp.shape(done)} dtype {done.dtype}")
    missing = [k for k in INFO_KEYS if k not in info]
    assert not missing, f"{what}: info lacks the ground-truth keys {missing} (required: {list(INFO_KEYS)})"
    _check_obs(env, params, info["outcome_obs"], f"{what} info['outcome_obs']")
    for k, (shape, dtype_kind) in INFO_SPEC.items():
        x = np.asarray(info[k])
        assert x.shape == shape and np.dtype(x.dtype).kind == dtype_kind, (
            f"{what}: info[{k!r}] has shape {x.shape} dtype {x.dtype}, "
            f"expected shape {shape} and dtype kind {dtype_kind!r}")
    for k in env.metrics:
        assert k in info and np.shape(info[k]) == () and np.asarray(info[k]).dtype.kind == "f", (
            f"{what}: the declared metric {k!r} must be a float scalar in info")
    kind = int(info["kind"])
    assert 0 <= kind < len(env.kinds), f"{what}: info['kind'] = {kind} is not an index into {env.kinds}"
    assert bool(info["deceptive"]) == env.deceptive_kinds[kind], (
        f"{what}: info['deceptive'] = {bool(info['deceptive'])} but kind {env.kinds[kind]!r} is "
        f"{'deceptive' if env.deceptive_kinds[kind] else 'honest'}")
    terminated, truncated = bool(info["terminated"]), bool(info["truncated"])
    assert bool(done) == (terminated or truncated), (
        f"{what}: done = {bool(done)} but terminated = {terminated}, truncated = {truncated}")
    assert not (terminated and truncated), f"{what}: an episode cannot both terminate and truncate"
    assert env.truncates or not truncated, f"{what}: truncated is True but the class says truncates = False"
    assert bool(done) or not env.one_step, f"{what}: done is False but the class says one_step = True"


def _check_topic(env, topic, what: str) -> None:
    """A decision's topic is an integer scalar, one of the ``num_topics`` (0 where there are none)."""
    assert np.shape(topic) == () and np.asarray(topic).dtype.kind == "i", (
        f"{what}: must be an integer scalar, got shape {np.shape(topic)} dtype {np.asarray(topic).dtype}")
    assert 0 <= int(topic) < max(env.num_topics, 1), f"{what}: {int(topic)} is not one of {env.num_topics} topics"


def _check_vmap(env, params, run, key, n_steps: int, n_batch: int, name: str) -> None:
    """Rollouts batched over keys and over parameters agree with one-at-a-time rollouts."""
    keys = jax.random.split(key, n_batch)
    params_b = jax.tree.map(lambda x: np.full((n_batch,), x, np.float32), params)
    with _stage(f"{name}: reset, plan_mask and step under vmap over keys and parameters"):
        batched = jax.device_get(jax.jit(jax.vmap(functools.partial(_rollout, env, n_steps=n_steps)))(keys, params_b))
        for i in range(n_batch):
            _assert_equal_trees(jax.tree.map(lambda x: x[i], batched), run(keys[i], params),
                                f"vmapped rollout {i} differs from the same rollout unbatched")
    with _stage(f"{name}: plan_mask under vmap over states alone"):
        jax.jit(jax.vmap(env.plan_mask, (0, None)))(batched[0][1], params)


def _signature(tree) -> list:
    """Structure, shapes and dtypes of a pytree, to compare across steps."""
    leaves, treedef = jax.tree.flatten(tree)
    return [str(treedef)] + [(tuple(np.shape(x)), str(np.result_type(x))) for x in leaves]


def _assert_equal_trees(a, b, message: str) -> None:
    """Two pytrees have the same structure and equal leaves (within float round-off)."""
    la, ta = jax.tree_util.tree_flatten_with_path(a)
    lb, tb = jax.tree.flatten(b)
    assert ta == tb, f"{message}: structures differ: {ta} vs {tb}"
    for (path, x), y in zip(la, lb):
        x, y, where = np.asarray(x), np.asarray(y), jax.tree_util.keystr(path)
        assert x.shape == y.shape, f"{message}: {where} has shape {x.shape} in one and {y.shape} in the other"
        close = np.isclose(x, y, atol=1e-5, equal_nan=True)
        if not close.all():  # where and how much, not two whole arrays
            first = tuple(int(i) for i in np.argwhere(~close)[0])
            raise AssertionError(f"{message} ({int((~close).sum())} of {close.size} values of {where} differ; the "
                                 f"first, at {first}: {x[first]:.6g} vs {y[first]:.6g})")


@contextlib.contextmanager
def _stage(stage: str):
    """Turn any error raised inside into an ``AssertionError`` that names the stage."""
    try:
        yield
    except AssertionError as err:
        raise AssertionError(f"{stage}: {err}") from err
    except Exception as err:  # noqa: BLE001 - any failure of the environment is a contract failure
        raise AssertionError(f"{stage} raised {type(err).__name__}: {err}") from err
