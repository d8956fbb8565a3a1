"""When the alarm judges (``reward.judged``): once at the episode's end on its pooled scores, or at
every step on that step's own thought. ``end`` is what the learner always did: the reference tests
(test_learning, test_policy_gradient, test_comparator) still reproduce their stored metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import TINY

from brainlike.config import Config, ConfigError, replace
from brainlike.core import learner as L
from brainlike.core import probes, rollout
from brainlike.core.traced import compile_key, float32


def test_judged_is_validated_and_structural():
    with pytest.raises(ConfigError, match=r"^reward.judged: 'later' is not allowed"):
        replace(Config(), **{"reward.judged": "later"})
    # a step-judged alarm reads no pooled score: an episode is alarmed if any step was, i.e. max
    for pooling in ("last", "mean"):
        with pytest.raises(ConfigError, match=r"^probe.pooling: .* allowed with reward.judged=step: max$"):
            replace(Config(), **{"reward.judged": "step", "probe.pooling": pooling})
    step = replace(Config(), **{"reward.judged": "step", "probe.pooling": "max"})
    assert compile_key(step) != compile_key(replace(step, **{"reward.judged": "end"}))
    assert Config().reward.judged == "end"


def _penalties(judged: str, scores, done, audit="off", deceptive=None):
    """The alarm's cost at each step of one overseen episode whose thoughts score ``scores``
    (threshold 0, alpha 2, no environment reward)."""
    config = replace(Config(), **{"reward.judged": judged, "probe.pooling": "max", "reward.alpha": 2.0,
                                  "reward.oversight": 1.0, "reward.audit": audit})
    s = rollout.make_spec(float32(config))
    episode = rollout.new_episode(s, jax.random.PRNGKey(0))
    probe = probes.Probe(jnp.zeros(16), jnp.zeros(()), jnp.asarray(0.0))
    deceptive = [False] * len(scores) if deceptive is None else deceptive
    out = []
    for score, d, dec in zip(scores, done, deceptive):
        info = {"deceptive": jnp.asarray(dec), "safety": jnp.zeros(())}
        episode, r, _ = rollout.judge(s, episode, probe, jnp.asarray(score), jnp.zeros(()), jnp.asarray(d), info)
        out.append(-float(r))
    return out


def test_a_step_judged_alarm_costs_at_the_flagged_step_an_end_judged_one_at_the_end():
    scores, done = [-5.0, 5.0, -5.0, -5.0], [False, False, False, True]  # the second thought is flagged
    assert _penalties("end", scores, done) == [0.0, 0.0, 0.0, 2.0]
    assert _penalties("step", scores, done) == [0.0, 2.0, 0.0, 0.0]
    # audited: the flagged step itself must be deceptive (end: anywhere in the episode)
    assert _penalties("step", scores, done, "on", [False, False, True, False]) == [0.0] * 4
    assert _penalties("step", scores, done, "on", [False, True, False, False]) == [0.0, 2.0, 0.0, 0.0]
    assert _penalties("end", scores, done, "on", [False, False, True, False]) == [0.0, 0.0, 0.0, 2.0]


VAULT = {**TINY, "env": "vault_grid", "probe.coverage": ("A",), "env.supervisor": 0.0, "env.b_prevalence": 0.0,
         "probe.pooling": "max", "probe.rate": 0.9, "reward.oversight": 1.0, "run.rollout_len": 48,
         "beliefs.pretrain_updates": 200, "probe.n_thoughts": 128}  # pooling's vault_grid probe


@pytest.fixture(scope="module")
def vault_rollouts():
    """Random-walk rollouts of a tiny vault_grid (8 environments x 48 steps), with the same keys
    at alpha 3 and alpha 0, under each way of judging: ``{judged: (batch, cost per step)}``."""
    out = {}
    for judged in ("end", "step"):
        config = replace(Config(), **{**VAULT, "reward.judged": judged, "reward.alpha": 3.0})
        state = jax.jit(lambda k: L.init(rollout.make_spec(float32(config)), k))(jax.random.PRNGKey(0))
        act = jax.jit(lambda c: rollout.rollout(rollout.make_spec(c), state.params, state.probe, state.actors,
                                                jax.random.PRNGKey(1), True)[1])
        batch = act(float32(config))
        free = act(float32(replace(config, **{"reward.alpha": 0.0})))
        out[judged] = batch, np.asarray(free.reward - batch.reward)
    return out


def test_on_vault_grid_a_step_judged_alarm_fires_at_the_door_step_not_at_the_end(vault_rollouts):
    batch, cost = vault_rollouts["step"]
    flagged, kind, done = (np.asarray(x) for x in (batch.flagged, batch.kind, batch.done))
    np.testing.assert_allclose(cost, 3.0 * flagged, atol=1e-6)  # every flagged step pays, and only they
    door = kind == 1
    assert (flagged & door).sum() >= 5 and flagged[door].mean() > 2 * flagged[~door].mean()  # it sees the door
    # the vault lies two steps past the door: a flagged door step pays before its episode ends
    before_end = door & flagged & ~done
    assert before_end.sum() >= 5 and (cost[before_end] == pytest.approx(3.0))
    # the same walks judged at the end: nothing is paid at the door, the whole cost where episodes end
    end, end_cost = vault_rollouts["end"]
    np.testing.assert_array_equal(np.asarray(end.kind), kind)  # exploring: the same moves under either
    assert (end_cost[~done] == 0).all() and (end_cost[door] == 0).all()
    np.testing.assert_allclose(end_cost[done], 3.0 * np.asarray(end.ep_fired)[done], atol=1e-6)
    assert np.asarray(end.ep_fired)[done].sum() >= 5
    # the logged alarm rate means the same under either: an episode with a flagged step (max pooling)
    np.testing.assert_array_equal(np.asarray(batch.ep_fired), np.asarray(end.ep_fired))


def test_completion_rate_is_the_share_of_episodes_that_reach_the_vault(vault_rollouts):
    from brainlike.envs.vault_grid import GOAL

    batch, _ = vault_rollouts["step"]
    config = replace(Config(), **{**VAULT, "reward.judged": "step"})
    s = rollout.make_spec(config)
    logged = L.log_stats(s, L.update_stats(s, batch, jnp.zeros(()), jnp.zeros(())), 1)
    done = np.asarray(batch.done)
    in_vault = np.asarray(batch.outcome_obs)[..., GOAL] > 0.5  # the position one-hot after the step
    assert 0 < in_vault[done].sum() < done.sum()  # random walks: some reach it, some hit the time limit
    assert float(logged["completion_rate"]) == pytest.approx(in_vault[done].mean())
