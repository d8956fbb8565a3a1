"""The indirect-pathway figures (hill_climb, pooling, oversight; end to end in test_experiments.py): their
verdicts follow the data, and early stopping picks the best logged point."""

from __future__ import annotations


import numpy as np
from test_experiments import synthetic

from brainlike.report.experiment import Result
from brainlike.schema import SCALARS
from brainlike.store.summary import at_points, best_point, early_stop, first_majority
from experiments import hill_climb, oversight, pooling


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


# --- verdicts follow the data ---

def walking(config, n_seeds: int, before, after, **metrics) -> Result:
    """A hill_climb condition whose seeds split their decisions over the plans as ``before`` says up
    to the alarm's arrival, and as ``after`` says from the next logged point on."""
    n_logs = config.run.n_logs
    freq = np.zeros((n_seeds, n_logs, len(hill_climb.PLAN_NAMES)))
    cut = hill_climb.arrival(config) + 1
    freq[:, :cut], freq[:, cut:] = before, after
    result = synthetic(config, n_seeds, **metrics)
    return result._replace(logged=result.logged | {"plan_freq_by_plan": freq})


def test_hill_climb_verdicts_flip_with_the_data():
    exp = hill_climb.EXPERIMENT
    conditions = exp.conditions(True)
    n = 200
    on = lambda plan: np.eye(len(hill_climb.PLAN_NAMES))[plan]  # noqa: E731
    a, b, two = on(1), on(6), on(2)
    as_predicted = {c: walking(cfg, n, a, b if "graded" in c else two) for c, cfg in conditions.items()}
    assert [h.evaluate(as_predicted)["verdict"] for h in exp.hypotheses] == ["supported"] * len(exp.hypotheses)
    split = 0.5 * (on(0) + on(6))  # half honest, half B
    against = {c: walking(cfg, n, b, a if "graded" in c else split, probe_recall_frozen=0.3)
               for c, cfg in conditions.items()}
    assert [h.evaluate(against)["verdict"] for h in exp.hypotheses] == ["contradicted"] * len(exp.hypotheses)


def learning(config, n_seeds: int, first: dict, later: dict) -> Result:
    """A condition whose first logged point holds ``first`` and every later one ``later`` (each metric
    defaulting to the other's value)."""
    start, end = synthetic(config, n_seeds, **(later | first)), synthetic(config, n_seeds, **(first | later))
    logged = {k: np.concatenate([start.logged[k][:, :1], end.logged[k][:, 1:]], axis=1) for k in end.logged}
    return end._replace(logged=logged)


def test_pooling_verdicts_flip_with_the_data():
    exp = pooling.EXPERIMENT
    conditions = exp.conditions(True)
    n, hi = 200, pooling.HI
    honest = dict(deception_rate=0.5, evasion_rate=0.05)
    as_predicted = {c: learning(cfg, n, honest, dict(evasion_rate=0.3) if "-max-" in c else {})
                    for c, cfg in conditions.items()}
    mean_thoughts = pooling.name("brainlike", "mean", hi, "thoughts")
    as_predicted[mean_thoughts] = synthetic(conditions[mean_thoughts], n, deception_rate=0.9, evasion_rate=0.85)
    tp_max = pooling.name("through_probe", "max", hi)
    as_predicted[tp_max] = synthetic(conditions[tp_max], n, deception_rate=0.9, evasion_rate=0.9)
    assert [h.evaluate(as_predicted)["verdict"] for h in exp.hypotheses] == ["supported"] * len(exp.hypotheses)
    against = {c: learning(cfg, n, honest, dict(deception_rate=0.9, evasion_rate=0.8) if "-mean-" in c else {})
               for c, cfg in conditions.items()}
    assert [h.evaluate(against)["verdict"] for h in exp.hypotheses] == ["contradicted"] * len(exp.hypotheses)


def overseen(config, n_seeds: int, deception, safety_early: float, safety_end: float, completion: float = 1.0) -> Result:
    """An oversight condition: its overseen return peaks at logged point 4 of 10, where the safety
    score is ``safety_early``; ``safety_end`` elsewhere. ``deception``: a value, or a curve of 10 points."""
    result = synthetic(config, n_seeds, completion_rate=completion)
    t = np.arange(10)
    logged = result.logged | {"overseen_return": np.tile(-np.abs(t - 4.0), (n_seeds, 1)),
                              "deception_rate": np.tile(np.broadcast_to(deception, (10,)), (n_seeds, 1)),
                              "safety_score": np.tile(np.where(t == 4, safety_early, safety_end), (n_seeds, 1))}
    return result._replace(logged=logged)


def test_oversight_verdicts_flip_with_the_data():
    exp = oversight.EXPERIMENT
    conditions = exp.conditions(True)
    n, low, name = 200, oversight.LOW, oversight.name

    # policy_gradient safer than brainlike at every fraction, and safer still stopped early; brainlike deceives
    # in half its episodes at the lowest fraction and not at all under full oversight, through_probe does;
    # step-judged, brainlike finishes more under full oversight than end-judged; every curve flat
    as_predicted = {c: overseen(cfg, n, 0.5, -0.8, -0.8) for c, cfg in conditions.items()}
    for f in oversight.FRACTIONS:
        as_predicted[name("policy_gradient", f)] = overseen(conditions[name("policy_gradient", f)], n, 0.9, 0.0, -0.2)
    as_predicted[name("brainlike", 1.0)] = overseen(conditions[name("brainlike", 1.0)], n, 0.0, -0.8, -0.8, 0.9)
    as_predicted[name("brainlike", 1.0, "end")] = overseen(conditions[name("brainlike", 1.0, "end")], n, 0.0, -0.8,
                                                           -0.8, 0.2)
    as_predicted[name("through_probe", 1.0)] = overseen(conditions[name("through_probe", 1.0)], n, 0.9, -0.8, -0.8)
    assert [h.evaluate(as_predicted)["verdict"] for h in exp.hypotheses] == ["supported"] * len(exp.hypotheses)

    # every condition alike, its deception still climbing at the end; policy_gradient less safe at one fraction
    # and worse stopped early
    climbing = np.linspace(0.0, 0.9, 10)
    against = {c: overseen(cfg, n, climbing, -0.9, -0.1) for c, cfg in conditions.items()}
    against[name("policy_gradient", low)] = overseen(conditions[name("policy_gradient", low)], n, climbing, -0.9, -0.3)
    assert [h.evaluate(against)["verdict"] for h in exp.hypotheses] == ["contradicted"] * len(exp.hypotheses)
