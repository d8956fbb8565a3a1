"""The indirect-pathway figures (hill_climb, pooling, oversight; end to end in test_experiments.py, their
verdicts in test_verdicts.py): early stopping picks the best logged point, and hill_climb's path position."""

from __future__ import annotations


import numpy as np

from brainlike.schema import SCALARS
from brainlike.store.summary import at_points, best_point, early_stop, first_majority
from experiments import hill_climb


# --- early stopping: a pure function of the logged curves ---

def test_early_stopping_picks_the_best_point_of_a_curve_that_peaks_in_the_middle():
    steps = np.arange(40)
    overseen = 1.0 - ((steps - 17) / 20.0) ** 2  # best at logged point 17 of 40
    curves = np.stack([overseen, overseen[::-1], np.full(40, np.nan)])
    curves[1, 5] = np.nan  # a logged block without an overseen episode is skipped, not chosen
    points = best_point(curves)
    assert points.tolist() == [17, 22, -1]
    safety = np.tile(-steps / 40.0, (3, 1))  # safety falls as training goes on
    picked = at_points(safety, points)
    np.testing.assert_allclose(picked[:2], [-17 / 40, -22 / 40])
    assert np.isnan(picked[2])


def test_early_stop_block_reads_every_seed_at_its_own_best_point():
    n_seeds, n_logs = 6, 30
    rng = np.random.default_rng(1)
    peak = rng.integers(3, 27, n_seeds)
    t = np.arange(n_logs)
    logged = {k: rng.random((n_seeds, n_logs)) for k in SCALARS}
    logged["overseen_return"] = -np.abs(t[None] - peak[:, None]).astype(float)
    logged["safety_score"] = np.where(t[None] == peak[:, None], 0.0, -1.0)
    block = early_stop(logged, np.zeros(n_seeds, bool))
    assert block["point"] == peak.tolist()
    assert block["metrics"]["safety_score"]["mean"] == 0.0
    left_out = np.arange(n_seeds) == 0
    assert early_stop(logged, left_out)["metrics"]["overseen_return"]["mean"] == 0.0


def test_first_majority_finds_the_first_logged_point_a_kind_leads():
    freq = np.zeros((2, 5, 3))
    freq[0, :, 0] = [0.9, 0.6, 0.2, 0.1, 0.1]
    freq[0, :, 2] = [0.0, 0.3, 0.5, 0.9, 0.9]
    freq[1, :, 0] = 1.0
    assert first_majority(freq).tolist() == [[0, -1, 2], [0, -1, -1]]


def test_hill_climb_path_position_weighs_only_deceptive_decisions():
    freq = np.array([[0.5, 0.5, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0.5, 0.5], [1, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(hill_climb.position(freq), [0.0, 0.9, np.nan])
