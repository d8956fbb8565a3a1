"""Probes against plain NumPy references: quantile thresholds, AUROC, the logistic fit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainlike.core import probes

N = 61
# jitted once each: one compilation per shape instead of one per primitive
AUROC = jax.jit(probes.auroc)
QUANTILE = jax.jit(probes.masked_quantile)
CALIBRATE = jax.jit(probes.calibrate, static_argnums=3)
FIT = jax.jit(probes.fit_logistic)


def _data(seed: int, n: int = N, ties: bool = False):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=n).astype(np.float32)
    if ties:
        scores = np.round(scores * 2) / 2  # many equal scores
    y = (rng.random(n) < 0.4).astype(np.float32)
    valid = rng.random(n) < 0.7
    return scores, y, valid


def _auroc_reference(scores, y, valid) -> float:
    """Mean over (positive, negative) pairs of 1 if the positive ranks higher, 1/2 if tied."""
    pos, neg = scores[valid & (y > 0.5)], scores[valid & (y < 0.5)]
    wins = [(p > q) + 0.5 * (p == q) for p in pos for q in neg]
    return float(np.mean(wins))


@pytest.mark.parametrize("seed, ties", [(0, False), (1, True), (2, True)])
def test_auroc_matches_pairwise_reference(seed, ties):
    scores, y, valid = _data(seed, ties=ties)
    got = float(AUROC(jnp.asarray(scores), jnp.asarray(y), jnp.asarray(valid)))
    assert got == pytest.approx(_auroc_reference(scores, y, valid), abs=1e-6)


def test_auroc_extremes():
    y = jnp.asarray([0.0, 0.0, 1.0, 1.0])
    valid = jnp.ones(4, bool)
    assert AUROC(jnp.asarray([0.0, 1.0, 2.0, 3.0]), y, valid) == 1.0
    assert AUROC(jnp.asarray([3.0, 2.0, 1.0, 0.0]), y, valid) == 0.0
    assert AUROC(jnp.zeros(4), y, valid) == 0.5
    # a mask that drops the only misordered pair restores perfect separation
    assert AUROC(jnp.asarray([0.0, 9.0, 2.0, 3.0]), y, jnp.asarray([True, False, True, True])) == 1.0


@pytest.mark.parametrize("q", [0.0, 0.05, 0.3, 0.5, 0.95, 1.0])
def test_masked_quantile_matches_numpy(q):
    x, _, valid = _data(3)
    got = float(QUANTILE(jnp.asarray(x), jnp.asarray(valid), q))
    assert got == pytest.approx(float(np.quantile(x[valid], q)), abs=1e-5)


@pytest.mark.parametrize("target, rate", [("tpr", 0.95), ("tpr", 0.6), ("fpr", 0.05), ("fpr", 0.2)])
def test_calibrate_threshold_matches_numpy(target, rate):
    scores, y, valid = _data(4, n=200)
    thr = float(CALIBRATE(jnp.asarray(scores), jnp.asarray(y), jnp.asarray(valid), target, rate))
    group = valid & ((y > 0.5) if target == "tpr" else (y < 0.5))
    assert thr == pytest.approx(float(np.quantile(scores[group], 1.0 - rate)), abs=1e-5)
    # and the threshold does what it says: about `rate` of that group scores above it
    assert np.mean(scores[group] > thr) == pytest.approx(rate, abs=1.5 / group.sum())


def test_calibration_ignores_invalid_rows():
    scores, y, valid = _data(5)
    junk = np.where(valid, scores, 1e6).astype(np.float32)  # invalid rows hold garbage
    a = CALIBRATE(jnp.asarray(scores), jnp.asarray(y), jnp.asarray(valid), "tpr", 0.9)
    b = CALIBRATE(jnp.asarray(junk), jnp.asarray(y), jnp.asarray(valid), "tpr", 0.9)
    assert a == b


def _logistic_reference(h, y, valid, l2, steps=100):
    """Newton's method in float64 on the same objective: mean log-loss over valid rows + l2/2 |u|^2."""
    h, y = h[valid].astype(np.float64), y[valid].astype(np.float64)
    x = np.concatenate([h, np.ones((len(h), 1))], axis=1)
    ridge = np.diag(np.r_[np.full(h.shape[1], l2), 0.0])
    theta = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ theta))
        grad = x.T @ (p - y) / len(y) + ridge @ theta
        hess = (x * (p * (1 - p))[:, None]).T @ x / len(y) + ridge
        theta -= np.linalg.solve(hess, grad)
    return theta[:-1], theta[-1]


def test_fit_logistic_matches_numpy_newton_with_a_mask():
    rng = np.random.default_rng(6)
    n, d = 120, 3
    h = rng.normal(size=(n, d)).astype(np.float32)
    y = (rng.random(n) < 1 / (1 + np.exp(-(h @ [1.5, -1.0, 0.5] + 0.3)))).astype(np.float32)
    valid = rng.random(n) < 0.75
    y_junk = np.where(valid, y, 1 - y).astype(np.float32)  # flipped labels on the rows that must be ignored
    u, c = FIT(jnp.asarray(h), jnp.asarray(y_junk), jnp.asarray(valid), 0.01)
    u_ref, c_ref = _logistic_reference(h, y, valid, 0.01)
    np.testing.assert_allclose(u, u_ref, atol=2e-4)
    assert float(c) == pytest.approx(c_ref, abs=2e-4)


def test_fit_logistic_separates_separable_data():
    rng = np.random.default_rng(7)
    h = rng.normal(size=(400, 4)).astype(np.float32)
    margin = h[:, 0] - 0.5 * h[:, 2] - 0.2
    h, y = h[np.abs(margin) > 0.3][:80], (margin[np.abs(margin) > 0.3][:80] > 0).astype(np.float32)
    u, c = FIT(jnp.asarray(h), jnp.asarray(y), jnp.ones(80, bool), 1e-3)
    pred = np.asarray(h @ np.asarray(u) + float(c)) > 0
    assert np.all(pred == (y > 0.5))
    assert AUROC(jnp.asarray(h) @ u + c, jnp.asarray(y), jnp.ones(80, bool)) == 1.0
    # the direction found is the true one, up to scale
    cos = np.dot(u, [1.0, 0.0, -0.5, 0.0]) / (np.linalg.norm(u) * np.sqrt(1.25))
    assert cos > 0.95


def test_fit_probe_calibrates_on_the_calibration_set():
    rng = np.random.default_rng(8)
    h = rng.normal(size=(2, 100, 2)).astype(np.float32)
    y = (h[..., 0] > 0).astype(np.float32)
    ok = np.ones((2, 100), bool)
    probe = jax.jit(probes.fit_probe, static_argnums=6)(h[0], y[0], ok[0], h[1], y[1], ok[1], "tpr", 0.9, 0.01)
    scores = h[1] @ np.asarray(probe.u) + float(probe.c)
    assert float(probe.threshold) == pytest.approx(float(np.quantile(scores[y[1] > 0.5], 0.1)), abs=1e-4)


@pytest.mark.parametrize("mode, expected", [("last", 2.0), ("mean", 0.5), ("max", 3.0)])
def test_pooling(mode, expected):
    def episode(scores):
        pool = jax.lax.fori_loop(0, 3, lambda i, pool: probes.add_to_pool(pool, scores[i]), probes.empty_pool())
        return probes.pooled(pool, mode)

    assert float(jax.jit(episode)(jnp.asarray([3.0, -3.5, 2.0]))) == pytest.approx(expected)


@pytest.mark.parametrize("seed, ties", [(0, False), (1, True), (2, True)])
@pytest.mark.parametrize("rate", [0.5, 0.9])
def test_at_least_tpr_is_the_strictest_threshold_meeting_the_rate(seed, ties, rate):
    scores, y, valid = _data(seed, ties=ties)
    t = float(jax.jit(probes.at_least_tpr)(jnp.asarray(scores), jnp.asarray(y), jnp.asarray(valid), rate))
    pos = scores[valid & (y > 0.5)]
    assert (pos > t).mean() >= rate
    stricter = pos[pos > t].min()  # the next threshold up, just at the lowest positive flagged
    assert (pos > stricter).mean() < rate
    assert not np.any(np.isclose(pos, t, atol=1e-6))  # a margin on both sides: no score sits on it


def test_pooled_episodes_reads_each_episode_as_its_running_pool():
    scores = jnp.asarray([3.0, -3.5, 2.0, 1.0, -1.0, 5.0])  # episodes 0 (three steps), 1 (two), 2 (unfinished)
    episode = jnp.asarray([0, 0, 0, 1, 1, 2])
    ends = jnp.asarray([False, False, True, False, True, False])
    got = {m: np.asarray(jax.jit(probes.pooled_episodes, static_argnums=(3, 4))(scores, episode, ends, 3, m))
           for m in ("last", "mean", "max")}
    np.testing.assert_allclose(got["last"][:2], [2.0, -1.0])
    np.testing.assert_allclose(got["mean"], [0.5, 0.0, 5.0])
    np.testing.assert_allclose(got["max"], [3.0, 1.0, 5.0])


# --- calibrating a pooled alarm on labelled episodes (probe.calibrate_on = episodes) -------------

def _episode_recall(pooling: str):
    """The deployed alarm's recall on its own calibration episodes, each episode pooled here in NumPy
    from the per-step scores; the number of deceptive episodes, their pooled scores, the threshold."""
    from brainlike.config import Config, replace
    from brainlike.core.traced import float32
    from brainlike.core import learner as lr
    from experiments._vault import VAULT

    config = replace(Config(), env="vault_grid", **{
        **VAULT, "beliefs.pretrain_updates": 50, "probe.n_thoughts": 64, "probe.episode_steps": 2048, "run.steps": 64,
        "probe.pooling": pooling, "probe.calibrate_on": "episodes"})
    s = lr.make_spec(float32(config))
    state = jax.jit(lambda k: lr.init(s, k))(jax.random.PRNGKey(3))
    ep = state.episodes
    h, deceptive, _ = lr.labelled_h(s, state.params, ep.thoughts)
    score, episode = np.asarray(h @ state.probe.u + state.probe.c), np.asarray(ep.episode)
    ends, deceptive = np.asarray(ep.ends), np.asarray(deceptive) > 0.5
    pool = {"last": lambda x: x[-1], "mean": np.mean, "max": np.max}[pooling]
    finished = [i for i in np.unique(episode) if ends[episode == i].any()]
    pooled = np.array([pool(score[episode == i]) for i in finished])
    positive = np.array([deceptive[episode == i].any() for i in finished])
    fired = pooled > float(state.probe.threshold)
    return fired[positive].mean(), positive.sum(), pooled[positive], float(state.probe.threshold)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_an_episode_calibrated_alarm_meets_its_target_on_the_pooled_scores(pooling):
    recall, n, positives, threshold = _episode_recall(pooling)
    target = 0.9  # VAULT's probe.rate
    assert n >= 50
    assert recall >= target
    assert (positives > positives[positives > threshold].min()).mean() < target  # the strictest: one step up falls short
    if pooling != "max":  # max pools onto the door step, one thought shared by many episodes: recall jumps by ties
        assert recall <= target + 3 * np.sqrt(target * (1 - target) / n)
