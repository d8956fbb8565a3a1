"""Statistics over seeds (brainlike.stats): intervals from scipy.stats, inside their statistic's
range, with seeds (not seeds x cells) as the unit of replication."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sps

from brainlike.store import stats

Z = 1.959964  # the 97.5% normal quantile, to 6 decimals


def _scipy_bca(x) -> list[float]:
    """The interval scipy gives for the mean of ``x``, resampling it directly."""
    r = sps.bootstrap((np.asarray(x, float),), np.mean, n_resamples=stats.N_RESAMPLES,
                      rng=np.random.default_rng(stats.RNG_SEED), method="BCa")
    return [r.confidence_interval.low, r.confidence_interval.high]


def _inside(block, lo, hi):
    a, b = block["ci95"]
    return lo <= a <= block["mean"] <= b <= hi


# --- Wilson ----------------------------------------------------------------------------------

def test_wilson_by_hand_and_equal_to_scipy():
    r = stats.wilson(5, 10)
    centre, half = (0.5 + Z * Z / 20) / (1 + Z * Z / 10), Z * math.sqrt(0.025 + Z * Z / 400) / (1 + Z * Z / 10)
    assert r["mean"] == 0.5 and r["ci95"] == pytest.approx([centre - half, centre + half], abs=1e-7)
    assert r["ci95"] == pytest.approx([0.2366, 0.7634], abs=1e-4)  # the textbook interval for 5/10
    for k, n in [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (7, 256), (0, 768)]:
        ci = sps.binomtest(k, n).proportion_ci(method="wilson")
        r = stats.wilson(k, n)
        assert r["ci95"] == pytest.approx([ci.low, ci.high], abs=1e-15), (k, n)
        assert _inside(r, 0.0, 1.0), (k, n)
    assert stats.wilson(0, 768)["ci95"][1] == pytest.approx(0.005, abs=1e-3)  # "0 of 768: 0-0.5%"
    assert stats.wilson(0, 0) == stats.empty()


# --- means over seeds ------------------------------------------------------------------------

def test_mean_ci_is_scipys_bca_bootstrap_over_the_seeds_with_values():
    x = np.r_[np.random.default_rng(3).beta(0.5, 3, 50), np.nan, np.nan]
    r = stats.mean_ci(x)
    assert r["mean"] == pytest.approx(np.nanmean(x), abs=1e-15)
    assert r["ci95"] == pytest.approx(_scipy_bca(x[:50]), abs=1e-12)
    assert stats.mean_ci(x) == r  # a fixed generator: the same interval every time


@pytest.mark.parametrize("x", [
    np.zeros(256), np.ones(256), [0.3], [0.0], [1.0], [0.0, 1.0], [0.0, 0.0, 1.0],
    np.r_[np.zeros(39), 1.0],  # the old t-interval went below 0 here
    np.r_[np.ones(23), 0.0],  # ... and above 1 here
    np.random.default_rng(0).beta(0.2, 0.2, 24), np.random.default_rng(1).random(256),
    np.full(7, 0.1),  # equal values whose float mean is not exactly 0.1
])
def test_mean_ci_stays_inside_the_data_and_holds_the_mean(x):
    x = np.asarray(x, float)
    r = stats.mean_ci(x)
    assert _inside(r, x.min(), x.max()), r
    assert _inside(r, 0.0, 1.0), r  # all these are rates


def test_mean_ci_degenerate_samples():
    assert stats.mean_ci([]) == stats.empty()
    assert stats.mean_ci([np.nan, np.nan]) == stats.empty()
    assert stats.mean_ci([7.0, np.nan]) == {"mean": 7.0, "ci95": [7.0, 7.0]}
    assert stats.mean_ci(np.full(5, 0.1)) == {"mean": 0.1, "ci95": [0.1, 0.1]}
    skew = stats.mean_ci(np.r_[np.zeros(39), 1.0])
    assert skew["mean"] == 0.025 and skew["ci95"][0] == 0.0 and 0.025 < skew["ci95"][1] < 0.2


def test_mean_cis_batches_rows_like_single_calls():
    rng = np.random.default_rng(5)
    x = rng.random((6, 40))
    x[1, :3] = np.nan  # rows with their own NaN seeds are bootstrapped apart
    x[2] = 0.5
    x[3] = np.nan
    x[4, 7] = np.nan
    many = stats.mean_cis(x)
    for row, block in zip(x, many):
        one = stats.mean_ci(row)
        if one["mean"] is None:
            assert block == one
        else:
            assert block["mean"] == pytest.approx(one["mean"], abs=1e-15)
            assert block["ci95"] == pytest.approx(one["ci95"], abs=1e-12)


# --- paired and pooled statistics: seeds are the unit -------------------------------------

def test_paired_difference_is_a_mean_over_seeds_of_their_differences():
    rng = np.random.default_rng(7)
    a, b = rng.random(64), rng.random(64)
    assert stats.paired_mean_ci(a, b) == stats.mean_ci(a - b)
    with pytest.raises(ValueError):
        stats.paired_mean_ci(a, b[:10])


def test_copies_of_one_cell_do_not_shrink_a_pooled_interval():
    """Three cells that are copies of one (the same seeds) carry one cell's information."""
    rng = np.random.default_rng(8)
    a, b = rng.random(64), rng.random(64)
    one = stats.paired_mean_ci(a, b)
    three = stats.paired_mean_ci(np.stack([a, a, a]), np.stack([b, b, b]))
    assert three["mean"] == pytest.approx(one["mean"], abs=1e-15)
    assert three["ci95"] == pytest.approx(one["ci95"], abs=1e-12)  # (d + d + d) / 3 is d up to rounding
    # treated as 192 independent differences, as the pooled statistic once did, it is ~sqrt(3) narrower
    naive = stats.mean_ci(np.concatenate([a - b] * 3))
    width = lambda r: r["ci95"][1] - r["ci95"][0]  # noqa: E731
    assert width(naive) < 0.7 * width(one)


def test_pooled_difference_averages_each_seed_over_its_cells():
    rng = np.random.default_rng(9)
    a, b = rng.random((3, 32)), rng.random((3, 32))
    r = stats.paired_mean_ci(a, b)
    assert r["mean"] == pytest.approx((a - b).mean(), abs=1e-15)  # the pooled estimate is unchanged
    assert r == stats.mean_ci((a - b).mean(axis=0))  # the interval is over 32 seeds
    a[1, 0] = np.nan  # a cell without a value is skipped for that seed only
    assert stats.per_seed_mean(a - b)[0] == pytest.approx(((a - b)[[0, 2], 0]).mean())


def test_pooled_share_resamples_seeds():
    seeds = np.random.default_rng(10).random(100) < 0.3
    one = stats.pooled_share(seeds[None])
    assert one == stats.wilson(int(seeds.sum()), 100)  # one cell: a count of independent seeds
    assert stats.pooled_share(np.stack([seeds] * 3)) == one  # copies: the same interval
    none = stats.pooled_share(np.zeros((3, 256), bool))
    assert none == stats.wilson(0, 256) and none["ci95"][1] > 0.01  # not [0, 0], nor wilson(0, 768)
    mixed = np.random.default_rng(11).random((3, 256)) < 0.2  # seeds differ between cells: bootstrap
    r = stats.pooled_share(mixed)
    assert r["mean"] == pytest.approx(mixed.mean()) and _inside(r, 0.0, 1.0)
    assert r == stats.mean_ci(mixed.mean(axis=0))


# --- learning-curve bands ------------------------------------------------------------------

def test_band_is_a_t_interval_cut_to_the_seeds_range():
    rng = np.random.default_rng(12)
    x = np.c_[rng.normal(0.5, 0.1, 40), np.r_[np.zeros(39), 1.0], np.zeros(40), np.full(40, np.nan),
              np.r_[0.4, np.full(39, np.nan)]]
    mean, lo, hi = stats.band(x)
    t = sps.t.ppf(0.975, 39)
    half = t * x[:, 0].std(ddof=1) / math.sqrt(40)
    assert [lo[0], hi[0]] == pytest.approx([x[:, 0].mean() - half, x[:, 0].mean() + half], abs=1e-12)
    assert lo[1] == 0.0 and 0.025 < hi[1] < 0.1  # the t-interval's lower end (< 0) is cut at 0
    assert lo[2] == hi[2] == mean[2] == 0.0
    assert np.isnan([mean[3], lo[3], hi[3]]).all()
    assert lo[4] == hi[4] == mean[4] == 0.4
    ok = ~np.isnan(mean)
    assert np.all((lo[ok] <= mean[ok]) & (mean[ok] <= hi[ok]))
    assert np.all((lo[ok] >= np.nanmin(x[:, ok], 0)) & (hi[ok] <= np.nanmax(x[:, ok], 0)))


def test_stats_needs_no_jax():
    code = "import sys, brainlike.store.stats, brainlike.store.summary; sys.exit('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_extreme_mean_ci_is_the_extreme_of_the_cell_means_with_an_interval_around_it():
    from brainlike.store.stats import extreme_mean_ci

    rng = np.random.default_rng(1)
    cells = np.stack([rng.normal(0.2, 0.1, 200), rng.normal(0.5, 0.1, 200), rng.normal(0.9, 0.05, 200)])
    low, high = extreme_mean_ci(cells, "min"), extreme_mean_ci(cells, "max")
    assert low["mean"] == pytest.approx(cells[0].mean()) and high["mean"] == pytest.approx(cells[2].mean())
    assert low["ci95"][0] < low["mean"] < low["ci95"][1] < 0.25 and 0.85 < high["ci95"][0] < high["mean"]
    cells[1, 0] = np.nan  # a seed with a missing cell leaves every cell
    assert extreme_mean_ci(cells, "min")["mean"] == pytest.approx(cells[0, 1:].mean())
    assert extreme_mean_ci(np.ones((2, 5)), "max") == {"mean": 1.0, "ci95": [1.0, 1.0]}


def test_mcnemar_exact_counts_discordant_seeds_and_tests_them_at_one_half():
    from brainlike.store.stats import mcnemar_exact

    a = np.array([1, 1, 1, 1, 1, 0, 1, 0], bool)
    b = np.array([0, 0, 0, 0, 0, 0, 1, 0], bool)
    r = mcnemar_exact(a, b)
    assert (r["a_only"], r["b_only"]) == (5, 0)
    assert r["p"] == pytest.approx(2 * 0.5**5)  # two-sided: 5 of 5 discordant pairs on one side
    assert mcnemar_exact(b, b)["p"] == 1.0  # no discordant pair: nothing to tell apart
    with pytest.raises(ValueError, match="shapes"):
        mcnemar_exact(a, b[:3])


def test_holm_steps_down_and_stops_at_the_first_failure():
    # sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop, so 0.04 is not rejected either
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert stats.holm([0.2, 0.001]) == [False, True]
    assert stats.holm([]) == []


def test_an_inverted_interval_agrees_with_the_verdict_and_with_a_t_test():
    from scipy import stats as sps

    from brainlike.report.experiment import Hypothesis

    rng = np.random.default_rng(3)
    for shift in (0.05, 0.1, 0.15, 0.3):
        x = rng.normal(shift, 1.0, 256)
        h = Hypothesis("q", "m", lambda results: stats.mean_ci(x), "above", 0.0)
        out = h.evaluate({})
        assert (out["p"] < 0.05) == (out["verdict"] != "inconclusive"), out
        t = sps.ttest_1samp(x, 0.0).pvalue
        # a bootstrap of 1999 resamples resolves p down to about 1e-3 (P_FLOOR)
        assert 0.5 * t < out["p"] < 2 * t if t > 0.01 else out["p"] < 0.02, (shift, out["p"], t)
