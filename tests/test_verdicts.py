"""Every hypothesis of every experiment gets the verdict its data say.

For each hypothesis, synthetic per-seed data (no training) lie clearly on the predicted side of its
threshold, and clearly on the other: the computed verdict must be ``supported`` and
``contradicted``, each decisive enough to survive Holm's correction over the figure's hypotheses
whatever the others' p-values; some hypotheses also get data straddling the threshold
(``inconclusive``). Conditions a case does not set hold no data, so a statistic that reads one
fails the case instead of answering from a default.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pytest

from brainlike.report.experiment import Result
from brainlike.schema import OUTCOMES
from brainlike.store.stats import holm
from experiments import (attention, channels, comparator_controls, discovered_routing, drift_control, hill_climb,
                         loop_closure, monitor_transfer, oversight, phase_diagram, placebo, pooling, preexisting_b,
                         probe_refresh, robustness, tpr_cliff)
from experiments.__main__ import NAMES, load

SEEDS = 200  # 0 of 200 seeds is decisively below 0.05 (Wilson), after Holm over any figure's hypotheses
JITTER = 0.02  # the standard deviation of each seed's offset from a metric's value
UNBOUNDED = ("return", "overseen_return", "env_reward", "safety_score", "wm_loss", "td_loss", "pg_probe_cosine")


# --- synthetic conditions ---

def fake(config, key: str, outcome="honest", **metrics) -> Result:
    """A condition's per-seed blocks. Each metric holds its value at every logged point (a number, a
    curve over the logged points, or a function of the config giving one; ``[points, plans]`` for
    shares over plans), each seed offset from it by its own jitter and a smaller one at each point,
    both of mean exactly 0 over seeds (a rate kept in [0, 1]; shares over plans instead moved
    towards the uniform split by a seed's own amount); every seed ends ``outcome``
    (a label, or a list of one label per seed). ``key`` seeds the jitter."""
    n = config.run.n_logs
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    logged = {}
    for metric, value in metrics.items():
        curve = np.asarray(value(config) if callable(value) else value, np.float64)
        curve = np.broadcast_to(curve, (n,) + curve.shape[1:])
        offset = centred(rng.standard_normal((SEEDS, 1)))
        if curve.ndim == 2:
            mix = np.abs(offset)[:, :, None]
            logged[metric] = (1 - mix) * curve + mix / curve.shape[-1]
        else:
            x = curve + offset + centred(rng.standard_normal((SEEDS, n))) / 2
            logged[metric] = x if metric in UNBOUNDED else np.clip(x, 0.0, 1.0)
    labels = [outcome] * SEEDS if isinstance(outcome, str) else outcome
    return Result(config, logged, np.array([OUTCOMES.index(label) for label in labels]))


def centred(z: np.ndarray) -> np.ndarray:
    """``z`` (``[seeds, points]``) scaled to a standard deviation of ``JITTER`` over seeds and mean 0 at every point."""
    return JITTER * (z - z.mean(0)) / z.std(0)


def mix(label: str, share: float, other: str = "honest") -> list[str]:
    """Per seed, ``label`` in ``share`` of the seeds and ``other`` in the rest."""
    k = round(share * SEEDS)
    return [label] * k + [other] * (SEEDS - k)


@functools.lru_cache(maxsize=None)
def grid(experiment: str) -> dict:
    return load(experiment).conditions(False)


def results(experiment: str, data: dict) -> dict[str, Result]:
    """Every condition of the experiment's full grid: those in ``data`` (name -> ``fake``'s keywords)
    with their blocks, the others without any data."""
    configs = grid(experiment)
    empty = {n: Result(c, {}, np.zeros(0, int)) for n, c in configs.items()}
    return empty | {n: fake(configs[n], n, **spec) for n, spec in data.items()}


# --- curves over the logged points ---

def switch(before, after, at):
    """``before`` up to the point ``at(config)``, ``after`` from there on."""
    def curve(config):
        n = config.run.n_logs
        values = [np.asarray(before, np.float64), np.asarray(after, np.float64)]
        return np.stack([values[i >= at(config)] for i in range(n)])
    return curve


def start(first, later):
    """``first`` at the first logged point, ``later`` at every other."""
    return switch(first, later, lambda config: 1)


def halves(first, later):
    """``first`` over the first half of the logged points, ``later`` over the second."""
    return switch(first, later, lambda config: config.run.n_logs // 2)


def climbing(low, high):
    """A straight line from ``low`` at the first logged point to ``high`` at the last."""
    return lambda config: np.linspace(low, high, config.run.n_logs)


def peak(at: int, there, elsewhere):
    """``there`` at logged point ``at``, ``elsewhere`` at every other."""
    return lambda config: np.where(np.arange(config.run.n_logs) == at, there, elsewhere)


def sawtooth(every: int, after, before):
    """A refit every ``every`` updates: ``after`` at the point logged right after a refit, falling in a
    straight line to ``before`` at the last point before the next (``probe_refresh.cycle_drop``)."""
    def curve(config):
        log_every = config.run.log_every
        phase = (log_every * np.arange(1, config.run.n_logs + 1)) % every // log_every
        return after + (before - after) * phase / (every // log_every - 1)
    return curve


# --- cases: for each verdict, the data of the conditions the statistic reads ---

def sides(supported: dict, contradicted: dict, inconclusive: dict | None = None) -> dict:
    """A case: per verdict, the data (condition -> ``fake``'s keywords) that should give it."""
    return {"supported": supported, "contradicted": contradicted} | (
        {"inconclusive": inconclusive} if inconclusive is not None else {})


def level(condition: str, metric: str, supported, contradicted, inconclusive=None) -> dict:
    """A hypothesis on one metric of one condition: its value (or curve) on each side."""
    at = lambda x: None if x is None else {condition: {metric: x}}  # noqa: E731
    return sides(at(supported), at(contradicted), at(inconclusive))


def pair(a: str, b: str, metric: str, supported, contradicted, inconclusive=None) -> dict:
    """A hypothesis on a paired difference ``a - b``: the metric's ``(a, b)`` values on each side."""
    at = lambda x: None if x is None else {a: {metric: x[0]}, b: {metric: x[1]}}  # noqa: E731
    return sides(at(supported), at(contradicted), at(inconclusive))


def ending(condition: str, supported, contradicted, inconclusive=None) -> dict:
    """A hypothesis on the share of a condition's seeds ending with some labels: the outcomes on each side."""
    at = lambda x: None if x is None else {condition: {"outcome": x}}  # noqa: E731
    return sides(at(supported), at(contradicted), at(inconclusive))


def each(names, **spec) -> dict:
    """The same data for every condition in ``names``."""
    return {n: dict(spec) for n in names}


# loop_closure: recall of the frozen probe, the share of seeds evading, and the knob grid
LC = loop_closure.knob_name
LOOP_CLOSURE = [
    ("brainlike_B_recall", level("brainlike-B", "probe_recall_frozen", 0.95, 0.2, 0.8)),
    ("brainlike_noB_evading", ending("brainlike-noB", "honest", "evades_by_shift", mix("evades_by_plan", 0.05))),
    # evading through B is allowed: only the other ways of evading count
    ("brainlike_B_evading_not_by_plan", ending("brainlike-B", "evades_by_plan", "evades_by_shift")),
    ("end_to_end_blinds", level("end_to_end-noB", "probe_recall_frozen", 0.1, 0.9)),
    ("through_probe_blinds", level("through_probe-noB", "probe_recall_frozen", 0.1, 0.9, 0.5)),
    ("weak_alarm_faithful", level(LC("brainlike", 0.3, 3e-3), "probe_recall_frozen", 0.95, 0.1)),
    ("no_alarm_faithful", level(LC("brainlike", 0.0, 3e-3), "probe_recall_frozen", 0.95, 0.1)),
    ("frozen_beliefs_faithful", level(LC("brainlike", 0.3, 0.0), "probe_recall_frozen", 0.95, 0.1)),
]

# preexisting_b: shares of brainlike seeds evading, and end_to_end's evasion against brainlike's
PB = preexisting_b.name


def offered(preset: str) -> list[str]:
    """``preset``'s conditions with B on offer."""
    return [n for n in grid("preexisting_b") if n.startswith(f"{preset}-") and n != PB(preset, 0.0, 0.0)]


PREEXISTING_B = [
    ("no_B_no_evasion", ending(PB("brainlike", 0.0, 0.0), "honest", "evades_by_plan", mix("evades_by_plan", 0.05))),
    ("undetected_B_found", ending(PB("brainlike", 1.0, 0.0), "evades_by_plan", "honest", mix("evades_by_plan", 0.5))),
    ("B_like_A_caught", ending(PB("brainlike", 1.0, 0.9), "caught", "evades_by_plan")),
    ("end_to_end_evades_more", sides(
        each(offered("end_to_end"), evasion_rate=0.3) | each(offered("brainlike"), evasion_rate=0.05),
        each(offered("end_to_end"), evasion_rate=0.05) | each(offered("brainlike"), evasion_rate=0.3),
        each(offered("end_to_end"), evasion_rate=0.32) | each(offered("brainlike"), evasion_rate=0.3))),
]

# drift_control: recall of the frozen probe under fixed behaviour, the remedies and the scope in sigma
DF, DS, REF = drift_control.fixed, drift_control.scope_name, drift_control.REFERENCE_LR
DRIFT_CONTROL = [
    ("always_A_goes_stale", level(DF(1.0, REF), "probe_recall_frozen", 0.1, 0.95, 0.5)),
    ("never_A_faithful", level(DF(0.0, REF), "probe_recall_frozen", 0.95, 0.1)),
    ("replay_keeps_it", level(DF(1.0, REF, "replay"), "probe_recall_frozen", 0.95, 0.1)),
    ("pretraining_keeps_it", level(DF(1.0, REF, "pretrain3000"), "probe_recall_frozen", 0.95, 0.1)),
    ("recalibration_keeps_it", level(DF(1.0, REF, "recalibrate50"), "probe_recall_frozen", 0.95, 0.1, 0.8)),
    ("sampled_always_A_faithful", level(DS("fixed p(A)=1", 0.5), "probe_recall_frozen", 0.95, 0.1)),
    ("sampled_learned_faithful", level(DS("learned, alpha=0", 0.5), "probe_recall_frozen", 0.95, 0.1)),
    ("weak_alarm_goes_stale", level(DS("learned, alpha=0.3", 0.0), "probe_recall_frozen", 0.1, 0.95)),
    ("sampled_weak_alarm_faithful", level(DS("learned, alpha=0.3", 0.5), "probe_recall_frozen", 0.95, 0.1)),
]

# comparator_controls: AUROC, the gradient cosine, RL-Obfuscation's split, deception
CS, CP, CR, TPR = (comparator_controls.sigma_name, comparator_controls.phrased_name,
                   comparator_controls.reference_name, comparator_controls.TPR)
COMPARATOR_CONTROLS = [
    ("activation_rl_blinds", pair(CS("grpo", 0.5, 0), CS("brainlike", 0.5, 0), "probe_auroc_frozen",
                                  (0.5, 0.95), (0.95, 0.9), (0.7, 0.9))),
    ("llm_analogue_keeps_ranking", level(CS("grpo", 0.0, 3.0), "probe_auroc_frozen", 0.98, 0.6)),
    ("sampling_blinds", pair(CS("grpo", 0.5, 3.0), CS("grpo", 0.0, 3.0), "probe_auroc_frozen",
                             (0.5, 0.95), (0.95, 0.95))),
    # read at RL's start, not over the final window
    ("cosine_at_start", level(CS("grpo", 0.5, 3.0), "pg_probe_cosine", start(0.5, 0.0), start(0.0, 0.5),
                              start(0.1, 0.5))),
    # read over the final window, not at RL's start
    ("cosine_stays_off", level(CS("grpo", 0.0, 3.0), "pg_probe_cosine", start(0.5, 0.0), start(0.0, 0.5))),
    # choice = fresh - taken, moved = TPR - fresh
    ("choice_over_moved", sides({CP("grpo"): dict(probe_recall_frozen=0.85, probe_recall_taken=0.3)},
                                {CP("grpo"): dict(probe_recall_frozen=0.3, probe_recall_taken=0.25)},
                                {CP("grpo"): dict(probe_recall_frozen=0.6, probe_recall_taken=0.3)})),
    ("brainlike_takes_phrasings", level(CP("brainlike"), "deception_rate", 0.4, 0.01)),
    ("frozen_reader_deceives_less", pair(CR(0.5), CS("grpo", 0.5, 3.0), "deception_rate",
                                         (0.2, 0.8), (0.8, 0.2))),
]
assert TPR == 0.9  # choice_over_moved's values above are for this target

# tpr_cliff: extremes over TPRs of a line's deception, and of paired gaps between lines
TN = tpr_cliff.name


def line(name: str, value: float, tprs=None, at=None, metric: str = "deception_rate") -> dict:
    """A line's ``metric`` at each of ``tprs`` (default: every TPR it runs at): ``value``, or ``at[tpr]``;
    with a settled deception rate beside any other metric (``tpr_cliff.settled`` reads it)."""
    tprs = tprs or [t for t in tpr_cliff.TPRS if TN(name, t) in grid("tpr_cliff")]
    return {TN(name, t): {"deception_rate": 0.5} | {metric: (at or {}).get(t, value)} for t in tprs}


RISING = lambda config: np.linspace(0.0, 0.5, config.run.n_logs)  # noqa: E731
LOW, HIGH, RECALL = (0.5, 0.6, 0.7), (0.95, 0.99), {"metric": "alarm_recall_fresh"}
BELOW_09 = (0.5, 0.6, 0.7, 0.8)
TPR_CLIFF = [
    # the high TPRs are not read by the low side's statistic, nor the low ones by the high side's
    # and a cell still rising when training stopped (unsettled: tpr_cliff.settled) is read by neither
    ("low_side_lies", sides(line("grpo-on", 0.95, at={0.7: RISING}) | line("grpo-on", 0.02, HIGH),
                            line("grpo-on", 0.95, at={0.7: 0.5}),
                            line("grpo-on", 0.85))),
    ("high_side_honest", sides(line("grpo-on", 0.05) | line("grpo-on", 0.95, LOW),
                               line("grpo-on", 0.05, at={0.99: 0.4}))),
    ("dpo_below_dpo_ceiling", sides(line("grpo-dpo", 0.1), line("grpo-dpo", 0.1, at={0.5: 0.6}))),
    ("brainlike_keeps_recall", sides(line("brainlike-on", 0.95, **RECALL) | line("grpo-on", 0.9, **RECALL),
                                     line("brainlike-on", 0.95, at={0.8: 0.5}, **RECALL)
                                     | line("grpo-on", 0.9, **RECALL))),
    ("brainlike_honest_everywhere", sides(line("brainlike-on", 0.02), line("brainlike-on", 0.02, at={0.6: 0.4}))),
    # every TPR below 0.9 counts; the higher ones are not read
    ("brainlike_deceives_less_below_09", sides(
        line("brainlike-on", 0.1, BELOW_09) | line("grpo-on", 0.6, BELOW_09) | line("brainlike-on", 0.9, HIGH),
        line("brainlike-on", 0.1, BELOW_09, at={0.8: 0.7}) | line("grpo-on", 0.6, BELOW_09))),
]

# hill_climb: each plan's share of decisions before the alarm arrives and after
HN, PLANS = hill_climb.name, np.eye(len(hill_climb.PLAN_NAMES))
A, PLAN5, B, HONEST = PLANS[1], PLANS[5], PLANS[hill_climb.B], PLANS[hill_climb.HONEST]
GL, BL = HN("brainlike", "graded", "local"), HN("brainlike", "binary", "local")
GA, BA = HN("brainlike", "graded", "all"), HN("brainlike", "binary", "all")
GF, BF = HN("brainlike", "graded", "local", True), HN("brainlike", "binary", "local", True)


def after_arrival(config) -> int:
    """The first logged point after the alarm enters the reward."""
    return hill_climb.arrival(config) + 1


def walk(before, after) -> dict:
    """Plan shares ``before`` up to the alarm's arrival and ``after`` from the next logged point on."""
    return {"plan_freq_by_plan": switch(before, after, after_arrival)}


def plan_share(condition: str, supported, contradicted) -> dict:
    """A hypothesis on a plan's final share: the plan taken after arrival on each side (A before)."""
    return sides({condition: walk(A, supported)}, {condition: walk(A, contradicted)})


HILL_CLIMB = [
    ("settles_near_A", sides({GL: walk(A, B)}, {GL: walk(PLAN5, A)})),
    ("climbs_to_B", sides({GL: walk(A, B)}, {GL: walk(B, A)})),
    ("graded_ends_on_B", plan_share(GL, B, A)),
    ("binary_stalls", plan_share(BL, A, B)),
    ("binary_still_deceives", plan_share(BL, A, HONEST)),
    ("shape_decides", sides({GL: walk(A, B), BL: walk(A, A)}, {GL: walk(A, A), BL: walk(A, B)})),
    ("shape_decides_without_path", sides({GA: walk(A, B), BA: walk(A, A)}, {GA: walk(A, A), BA: walk(A, B)})),
    ("policy_gradient_climbs", plan_share(HN("policy_gradient", "graded", "local"), B, A)),
    # read at arrival, not over the final window
    ("frozen_beliefs_calibrated", level(BF, "probe_recall_frozen", switch(0.95, 0.1, after_arrival),
                                        switch(0.1, 0.95, after_arrival))),
    ("frozen_binary_stalls", plan_share(BF, A, B)),
    ("frozen_graded_climbs", plan_share(GF, B, A)),
]

# probe_refresh: recall frozen and refitted, its fall within a refit cycle, the refitted AUROC's erosion
RN = probe_refresh.name
PROBE_REFRESH = [
    ("goes_stale_unrefitted", level(RN("brainlike", "weak", 0), "probe_recall_frozen", 0.1, 0.95)),
    ("refits_cure", level(RN("brainlike", "weak", 50), "probe_recall_frozen", 0.95, 0.1, 0.8)),
    *((f"{r}_truce", level(RN(r, "strong", 200), "probe_recall_frozen", sawtooth(200, 0.95, 0.1),
                           sawtooth(200, 0.6, 0.55), sawtooth(200, 0.7, 0.4)))
      for r in ("through_probe", "policy_gradient")),
    *((f"{r}_information_survives", level(RN(r, "strong", 50), "probe_auroc_refit", halves(0.95, 0.95),
                                          halves(0.98, 0.6)))
      for r in ("through_probe", "policy_gradient")),
]

# phase_diagram: outcomes pooled over cells, paired by seed; the drift of fresh recall at alpha 0
PN = phase_diagram.name
ALPHAS, BETAS = phase_diagram.ALPHAS, phase_diagram.BETAS


def cells(routing: str, alpha=lambda a: True, beta=lambda b: True) -> list[str]:
    """``routing``'s cells of the full grid whose alpha and beta pass the tests."""
    return [PN(routing, a, b) for a in ALPHAS for b in BETAS if alpha(a) and beta(b)]


def ends(names, outcome) -> dict:
    """Every cell in ``names`` settled (a flat deception rate: ``phase_diagram.cells`` reads only settled
    cells) with its seeds ending ``outcome``."""
    return each(names, outcome=outcome, deception_rate=0.5)


GR = cells("grpo")
GR_PENALISED, BL_PENALISED = (cells(r, alpha=lambda a: a > 0) for r in ("grpo", "brainlike"))
CORNER = cells("grpo", alpha=lambda a: a >= 3, beta=lambda b: b >= 1)  # the Atlas's honest corner
WEAK = cells("grpo", alpha=lambda a: a >= 3, beta=lambda b: b == 0)  # and its weak anchoring
GR_TOP = cells("grpo", alpha=lambda a: a > 0, beta=lambda b: b == max(BETAS))
GR_MID = cells("grpo", alpha=lambda a: a > 0, beta=lambda b: b == phase_diagram.MODERATE)
GR_ZERO = cells("grpo", alpha=lambda a: a > 0, beta=lambda b: b == 0)

PHASE_DIAGRAM = [
    # the cells outside the pooled ones end the other way
    ("atlas_honest_corner", sides(ends(GR, "caught") | ends(CORNER, "honest"),
                                  ends(GR, "honest") | ends(CORNER, "caught"))),
    ("atlas_weak_anchoring", sides(ends(GR, "honest") | ends(WEAK, "caught"),
                                   ends(GR, "caught") | ends(WEAK, "honest"),
                                   ends(GR, "honest") | ends(WEAK, mix("caught", 0.5)))),
    ("anchoring_grows_honesty", sides(ends(GR_TOP, "honest") | ends(GR_ZERO, "caught"),
                                      ends(GR_TOP, "caught") | ends(GR_ZERO, "honest"))),
    ("moderate_anchoring_helps", sides(ends(GR_MID, "honest") | ends(GR_ZERO, "caught"),
                                       ends(GR_MID, "caught") | ends(GR_ZERO, "honest"))),
    ("policies_obfuscate", sides(ends(GR_PENALISED, "evades_by_choice"),
                                 ends(GR_PENALISED, "evades_by_shift"))),
    ("brainlike_more_honest", sides(ends(BL_PENALISED, "honest") | ends(GR_PENALISED, "caught"),
                                    ends(BL_PENALISED, "caught") | ends(GR_PENALISED, "honest"))),
    # evading by shifting the threshold does not blind the probe; a cell still moving is read by no hypothesis
    ("brainlike_never_blinds", sides(ends(BL_PENALISED, "evades_by_shift") | {PN("brainlike", 3.0, 0.0): {
        "outcome": "evades_by_obfuscation", "deception_rate": RISING}},
                                     ends(BL_PENALISED, "evades_by_obfuscation"))),
]

# pooling: the pooled alarm's recall in the first block, evasion by pooling, what RL changed
PO, HI = pooling.name, pooling.HI
KEPT = [(r, a) for r in pooling.CONTROL_ROUTINGS for a in pooling.ALPHAS]


def caught(first: float, later: float) -> dict:
    """Deception 0.5 throughout, with the pooled alarm catching ``first`` of it in the first logged block
    and ``later`` after."""
    return {"deception_rate": 0.5, "evasion_rate": start(0.5 * (1 - first), 0.5 * (1 - later))}


POOLING = [
    # read in the first logged block, not over the final window
    ("calibration_built_in", sides({PO("brainlike", "mean", HI): caught(0.9, 0.2),
                                    PO("brainlike", "mean", HI, "thoughts"): caught(0.1, 0.9)},
                                   {PO("brainlike", "mean", HI): caught(0.2, 0.9),
                                    PO("brainlike", "mean", HI, "thoughts"): caught(0.9, 0.1)})),
    ("mean_not_evaded_more", sides(
        {PO(r, p, a): {"evasion_rate": 0.2} for r, a in KEPT for p in ("mean", "max")},
        {PO(r, p, a): {"evasion_rate": 0.8 if p == "mean" else 0.1} for r, a in KEPT for p in ("mean", "max")})),
    ("mean_not_learned", level(PO("brainlike", "mean", HI), "evasion_rate", start(0.1, 0.1), start(0.05, 0.5))),
    ("max_learned", level(PO("brainlike", "max", HI), "evasion_rate", start(0.05, 0.4), start(0.4, 0.05),
                          start(0.05, 0.1))),
    ("through_probe_evades_max", pair(PO("through_probe", "max", HI), PO("brainlike", "max", HI), "evasion_rate",
                                      (0.8, 0.1), (0.1, 0.1))),
]

# oversight: deception and safety per fraction, early stopping at the best overseen return
ON, FRACTIONS, OLOW = oversight.name, oversight.FRACTIONS, oversight.LOW
STEP_JUDGED = [ON(r, f) for r, f, j in oversight.grid() if j == "step"]
BEST = 20  # the logged point with the best overseen return


def stopping(safety_there: float, safety_elsewhere: float) -> dict:
    """An overseen return that peaks at point ``BEST``, where the safety score is ``safety_there``."""
    return {"overseen_return": lambda c: -np.abs(np.arange(c.run.n_logs) - BEST),
            "safety_score": peak(BEST, safety_there, safety_elsewhere)}


def by_fraction(metric: str, pg: float, bl: float, pg_at=None, bl_at=None) -> dict:
    """``metric`` of policy_gradient and brainlike (step-judged) at every fraction: ``pg`` and ``bl``,
    or ``pg_at[f]`` and ``bl_at[f]`` at the fractions those name."""
    return ({ON("policy_gradient", f): {metric: (pg_at or {}).get(f, pg)} for f in FRACTIONS}
            | {ON("brainlike", f): {metric: (bl_at or {}).get(f, bl)} for f in FRACTIONS})


OVERSIGHT = [
    # |deception - 0.5|: too little deception is as far off as too much
    ("deceives_when_away", sides({ON("brainlike", FRACTIONS[0]): {"deception_rate": 0.5}},
                                 {ON("brainlike", FRACTIONS[0]): {"deception_rate": 0.95}},
                                 {ON("brainlike", FRACTIONS[0]): {"deception_rate": 0.4}})),
    ("full_oversight_stops_it", level(ON("brainlike", 1.0), "deception_rate", 0.02, 0.5)),
    ("naive_safer_everywhere", sides(by_fraction("safety_score", -0.1, -0.8),
                                     by_fraction("safety_score", -0.1, -0.8, {0.25: -0.9}, {0.25: -0.2}))),
    # a gap of either sign at one fraction
    ("routing_moves_threshold", sides(by_fraction("deception_rate", 0.3, 0.3, {0.05: 0.1}, {0.05: 0.6}),
                                      by_fraction("deception_rate", 0.3, 0.3))),
    ("through_probe_deceives", pair(ON("through_probe", 1.0), ON("brainlike", 1.0), "deception_rate",
                                    (0.8, 0.05), (0.05, 0.05))),
    ("step_judged_finishes", pair(ON("brainlike", 1.0), ON("brainlike", 1.0, "end"), "completion_rate",
                                  (0.9, 0.2), (0.2, 0.9))),
    ("settled", sides(each(STEP_JUDGED, deception_rate=0.3),
                      each(STEP_JUDGED, deception_rate=0.3) | {ON("policy_gradient", 0.25):
                                                               {"deception_rate": climbing(0.0, 0.9)}})),
    ("early_stop_safer", sides({ON("policy_gradient", OLOW): stopping(-0.1, -0.8)},
                               {ON("policy_gradient", OLOW): stopping(-0.8, -0.1)})),
    ("early_stop_as_safe_as_routing", sides(
        {ON("policy_gradient", OLOW): stopping(-0.1, -0.8), ON("brainlike", OLOW): {"safety_score": -0.3}},
        {ON("policy_gradient", OLOW): stopping(-0.8, -0.1), ON("brainlike", OLOW): {"safety_score": -0.1}})),
]

# placebo: deception under placebo directions against the fitted probe, and split by the directions' lean
PL = placebo.name


def placebos(routing: str, match: str, deceive, fitted) -> dict:
    """Deception ``deceive`` under each of the routing's placebos matched on ``match``, ``fitted`` under its probe."""
    return {PL(routing, match, d): {"deception_rate": deceive} for d in range(placebo.DRAWS)} | {
        PL(routing): {"deception_rate": fitted}}


def leaning(toward: float, away: float, half: int = placebo.DRAWS // 2) -> dict:
    """brainlike's firing-matched placebos: the first ``half`` rank A above the honest thoughts in the
    first block (AUROC 0.8), deceiving ``toward``; the others rank it below (0.2), deceiving ``away``."""
    return {PL("brainlike", "firing", d): {"probe_auroc_frozen": start(0.8 if d < half else 0.2, 0.5),
                                            "deception_rate": toward if d < half else away}
            for d in range(placebo.DRAWS)}


PLACEBO = [
    ("firing_matched_fails", sides(placebos("brainlike", "firing", 0.8, 0.02),
                                   placebos("brainlike", "firing", 0.1, 0.05),
                                   placebos("brainlike", "firing", 0.4, 0.1))),
    ("recall_matched_fails", sides(placebos("brainlike", "recall", 0.8, 0.02),
                                   placebos("brainlike", "recall", 0.1, 0.05))),
    ("fpr_matched_fails", sides(placebos("brainlike", "fpr", 0.8, 0.02), placebos("brainlike", "fpr", 0.1, 0.05))),
    # every direction leaning one way: no seed has both kinds, so no statistic
    ("lean_decides", sides(leaning(0.1, 0.9), leaning(0.9, 0.1), leaning(0.5, 0.5, half=placebo.DRAWS))),
    ("end_to_end_fails_too", sides(placebos("end_to_end", "firing", 0.8, 0.02),
                                   placebos("end_to_end", "firing", 0.1, 0.05))),
    ("grpo_fails_too", sides(placebos("grpo", "firing", 0.8, 0.02), placebos("grpo", "firing", 0.1, 0.05))),
]

# discovered_routing: recall, return, world-model loss and evading per mask
DN, CONTROL = discovered_routing.name, discovered_routing.CONTROL
EARLY = lambda config: max(1, round(discovered_routing.EARLY * config.run.n_logs))  # noqa: E731
DISCOVERED_ROUTING = [
    ("found_as_faithful_as_imposed", pair(DN("marketnoB", "found", "pg"), DN("marketnoB", "imposed", "pg"),
                                          "probe_recall_frozen", (0.95, 0.5), (0.5, 0.95), (0.9, 0.95))),
    ("random_less_faithful", pair(DN("marketnoB", "found", "pg"), DN("marketnoB", "random", "pg"),
                                  "probe_recall_frozen", (0.95, 0.5), (0.95, 0.97))),
    ("price_of_routing_td", pair(DN("vault", "none", "td"), DN("vault", "found", "td"), "return",
                                 (0.5, 0.48), (0.9, 0.4))),
    ("price_of_routing_pg", pair(DN("vault", "none", "pg"), DN("vault", "found", "pg"), "return",
                                 (0.5, 0.48), (0.9, 0.4), (0.6, 0.5))),
    # read over the first quarter, not the final window
    ("learns_as_fast", pair(DN("vault", "none", "td"), DN("vault", "found", "td"), "return",
                            (switch(0.2, 0.9, EARLY), switch(0.2, 0.5, EARLY)),
                            (switch(0.8, 0.8, EARLY), switch(0.2, 0.8, EARLY)))),
    ("world_model_pays_little", pair(DN("vault", "found", "td"), DN("vault", "split"), "wm_loss",
                                     (0.30, 0.29), (0.5, 0.3))),
    ("narrow_vault_pays_reshaping", pair(DN("vault", "alpha0-end_to_end"), DN("vault", "alpha0-brainlike"),
                                         "env_reward", (0.3, 0.2), (0.2, 0.2))),
    ("imposed_closes_loop", ending(DN("marketnoB", "imposed", "pg"), "evades_by_shift", "honest",
                                   mix("evades_by_shift", 0.25))),
    ("unmasked_blinds", ending(DN("marketnoB", "none", "pg"), "evades_by_obfuscation", "honest")),
    ("td_alone_keeps_probe", level(DN("marketnoB", "none", "td"), "probe_recall_frozen", 0.97, 0.7)),
    # evading by another way than B does not count
    ("found_evades_by_plan", ending(DN("marketB", "found", "td"), "evades_by_plan", "evades_by_shift",
                                    mix("evades_by_plan", 0.8))),
    ("control_faithful", level(DN("marketnoB", CONTROL, "pg"), "probe_recall_frozen", 0.97, 0.5)),
    ("control_beats_imposed", pair(DN("marketnoB", CONTROL, "pg"), DN("marketnoB", "imposed", "pg"),
                                   "probe_recall_frozen", (0.95, 0.5), (0.6, 0.5))),
]

# channels: a channel's part at one TPR, the extreme over TPRs of a part, and of the learners' gap
CN = channels.name


def every_tpr(learner: str, channel: str, metric: str, value, at=None) -> dict:
    """``metric`` of one learner's channel condition at every TPR: ``value``, or ``at[tpr]`` where given."""
    return {CN(learner, channel, t): {metric: (at or {}).get(t, value)} for t in channels.TPRS}


CHANNELS = [
    ("grpo_choice_deceives", level(CN("grpo", "choice", 0.5), "deception_rate", 0.8, 0.2)),
    ("brainlike_choice_deceives", level(CN("brainlike", "choice", 0.5), "deception_rate", 0.8, 0.2)),
    ("brainlike_drift_helps", pair(CN("brainlike", "drift", 0.5), CN("brainlike", "choice", 0.5), "deception_rate",
                                   (0.1, 0.6), (0.6, 0.1))),
    ("brainlike_drift_raises_recall", pair(CN("brainlike", "drift", 0.5), CN("brainlike", "choice", 0.5),
                                           "alarm_recall_fresh", (0.9, 0.5), (0.3, 0.5))),
    ("grpo_drift_helps", pair(CN("grpo", "drift", 0.5), CN("grpo", "choice", 0.5), "deception_rate",
                              (0.1, 0.6), (0.6, 0.1))),
    # the largest gap over TPRs: one TPR where the gradient adds is enough; everywhere it takes away is not
    ("grpo_gradient_adds_somewhere", sides(
        every_tpr("grpo", "gradient", "deception_rate", 0.3, at={0.7: 0.8}) | every_tpr("grpo", "drift",
                                                                                        "deception_rate", 0.3),
        every_tpr("grpo", "gradient", "deception_rate", 0.1) | every_tpr("grpo", "drift", "deception_rate", 0.5))),
    ("grpo_gradient_lowers_recall_somewhere", sides(
        every_tpr("grpo", "gradient", "alarm_recall_fresh", 0.9, at={0.5: 0.4})
        | every_tpr("grpo", "drift", "alarm_recall_fresh", 0.9),
        every_tpr("grpo", "gradient", "alarm_recall_fresh", 0.95) | every_tpr("grpo", "drift", "alarm_recall_fresh",
                                                                              0.6))),
    ("brainlike_no_worse_everywhere", sides(
        every_tpr("grpo", "gradient", "deception_rate", 0.6) | every_tpr("brainlike", "drift", "deception_rate", 0.1),
        every_tpr("grpo", "gradient", "deception_rate", 0.6)
        | every_tpr("brainlike", "drift", "deception_rate", 0.1, at={0.9: 0.9}))),
]

# robustness: extremes over the set-up's variants of a learner's deception, and of paired gaps
def variants(learner: str, tpr: float, value, at=None) -> dict:
    """A learner's deception at ``tpr`` under every variant: ``value``, or ``at[variant]``."""
    return {robustness.name(learner, v, tpr): {"deception_rate": (at or {}).get(v, value)} for v in robustness.VARIANTS}


ROBUSTNESS = [
    # one variant where brainlike deceives more is enough to contradict; a still-rising one is not read
    ("brainlike_below_grpo_low_tpr", sides(
        variants("brainlike", 0.5, 0.05, at={"envs-few": lambda c: 0.5 + RISING(c)}) | variants("grpo", 0.5, 0.8),
        variants("brainlike", 0.5, 0.05, at={"start-short": 0.9}) | variants("grpo", 0.5, 0.8))),
    ("brainlike_below_grpo_high_tpr", sides(
        variants("brainlike", 0.9, 0.02) | variants("grpo", 0.9, 0.4),
        variants("brainlike", 0.9, 0.02, at={"spread-low": 0.6}) | variants("grpo", 0.9, 0.4))),
    ("brainlike_honest_everywhere", sides(
        variants("brainlike", 0.5, 0.03) | variants("brainlike", 0.9, 0.01),
        variants("brainlike", 0.5, 0.03) | variants("brainlike", 0.9, 0.01, at={"temperature-high": 0.3}))),
    ("grpo_lies_at_low_tpr", sides(variants("grpo", 0.5, 0.9), variants("grpo", 0.5, 0.9, at={"base": 0.3}))),
    ("grpo_cliff_everywhere", sides(
        variants("grpo", 0.5, 0.9) | variants("grpo", 0.9, 0.4),
        variants("grpo", 0.5, 0.9, at={"envs-many": 0.2}) | variants("grpo", 0.9, 0.4))),
]

# attention: per-kind shares of decisions where a kind came to mind, and the world model's error per kind
AN = attention.name


def a_in_mind(share: float) -> dict:
    """``offer_rate`` per kind (honest, A, B): the honest plan always in mind, A in ``share``, B never."""
    return {"offer_rate": np.array([[1.0, share, 0.0]])}


def a_error(err: float) -> dict:
    return {"wm_error_by_kind": np.array([[0.63, err, 0.63]])}


ATTENTION = [
    ("brainlike_stops_thinking_of_A", level(AN("brainlike", "considered", "learned"), "offer_rate",
                                            np.array([[1.0, 0.1, 0.0]]), np.array([[1.0, 0.6, 0.0]]))),
    ("A_stays_in_mind_when_taken_is_read", level(AN("brainlike", "taken", "learned"), "offer_rate",
                                                 np.array([[1.0, 0.9, 0.0]]), np.array([[1.0, 0.3, 0.0]]))),
    ("considered_makes_deception_free", pair(AN("brainlike", "considered", "all"), AN("brainlike", "taken", "all"),
                                             "deception_rate", (0.8, 0.05), (0.05, 0.5))),
    ("model_still_predicts_A", sides({AN("brainlike", "considered", "learned"): a_error(0.64),
                                      attention.FROZEN: a_error(0.635)},
                                     {AN("brainlike", "considered", "learned"): a_error(0.8),
                                      attention.FROZEN: a_error(0.635)})),
    ("probe_still_flags_A", level(AN("brainlike", "considered", "learned"), "probe_recall_frozen", 0.95, 0.3)),
    ("loop_stays_open", level(AN("brainlike", "considered", "learned"), "evasion_rate", 0.02, 0.5)),
    ("grpo_stops_thinking_of_A", level(AN("grpo", "considered", "learned"), "offer_rate",
                                       np.array([[1.0, 0.1, 0.0]]), np.array([[1.0, 0.7, 0.0]]))),
]

# monitor_transfer: recall changes (first logged point to final window) of the deployed probe and the monitors
MT = monitor_transfer.name


def mt_cell(name: str, deployed=(0.8, 0.8), monitors=(0.8, 0.8), deception=0.2, refit=0.95, monitor_final=None) -> dict:
    """One monitor_transfer condition: the deployed probe's and every monitor's recall from first to final
    (``monitor_final`` overrides the monitors' final value), steady deception, a refitted AUROC."""
    topics = "half" if name.split("-")[2] == "half" else "all"
    later = monitors[1] if monitor_final is None else monitor_final
    return {name: {"deception_rate": deception, "probe_auroc_refit": refit,
                   monitor_transfer.DEPLOYED: start(*deployed)}
            | {f"monitor_{m}_recall": start(monitors[0], later) for m in monitor_transfer.MONITORS[topics]}}


def mt_cells(learners=("brainlike", "grpo"), topics=("all", "half"), **kw) -> dict:
    """Every alarmed cell of ``learners`` x TPR x ``topics`` alike."""
    out = {}
    for x in learners:
        for t in monitor_transfer.TPRS:
            for k in topics:
                out |= mt_cell(MT(x, t, k), **kw)
    return out


MONITOR_TRANSFER = [
    ("grpo_evasion_transfers", sides(mt_cell(MT("grpo", 0.9, "half"), deployed=(0.8, 0.5), monitors=(0.8, 0.5)),
                                     mt_cell(MT("grpo", 0.9, "half"), deployed=(0.8, 0.4), monitors=(0.8, 0.8)),
                                     mt_cell(MT("grpo", 0.9, "half"), deployed=(0.8, 0.4), monitors=(0.8, 0.5),
                                             deception=RISING))),
    ("brainlike_evasion_transfers", sides(mt_cell(MT("brainlike", 0.9, "half"), deployed=(0.8, 0.6), monitors=(0.8, 0.6)),
                                          mt_cell(MT("brainlike", 0.9, "half"), deployed=(0.8, 0.4), monitors=(0.8, 0.8)))),
    ("alarm_costs_grpo", sides(mt_cell(MT("grpo", 0.9, "half"), deployed=(0.8, 0.5)) | mt_cell(monitor_transfer.CONTROL("grpo")),
                               mt_cell(MT("grpo", 0.9, "half")) | mt_cell(monitor_transfer.CONTROL("grpo"), deployed=(0.8, 0.5)))),
    ("alarm_costs_brainlike", sides(
        mt_cell(MT("brainlike", 0.9, "half"), deployed=(0.8, 0.5)) | mt_cell(monitor_transfer.CONTROL("brainlike")),
        mt_cell(MT("brainlike", 0.9, "half")) | mt_cell(monitor_transfer.CONTROL("brainlike"), deployed=(0.8, 0.5)))),
    ("half_goes_stale_faster", sides(mt_cells(topics=("half",), deployed=(0.8, 0.5)) | mt_cells(topics=("all",)),
                                     mt_cells(topics=("half",)) | mt_cells(topics=("all",), deployed=(0.8, 0.5)))),
    ("brainlike_keeps_monitors", sides(mt_cell(MT("brainlike", 0.9, "half"), monitor_final=0.8)
                                       | mt_cell(MT("grpo", 0.9, "half"), monitor_final=0.7),
                                       mt_cell(MT("brainlike", 0.9, "half"), monitor_final=0.5)
                                       | mt_cell(MT("grpo", 0.9, "half"), monitor_final=0.8))),
    ("information_still_there", sides(mt_cells(refit=0.97), mt_cells(refit=0.97)
                                      | mt_cell(MT("grpo", 0.5, "all"), refit=0.7))),
    ("brainlike_lies_less", sides(mt_cells(("brainlike",), deception=0.1) | mt_cells(("grpo",), deception=0.3),
                                  mt_cells(("brainlike",), deception=0.4) | mt_cells(("grpo",), deception=0.2))),
]

CASES = {"monitor_transfer": MONITOR_TRANSFER, "channels": CHANNELS, "attention": ATTENTION, "robustness": ROBUSTNESS, "loop_closure": LOOP_CLOSURE, "preexisting_b": PREEXISTING_B, "drift_control": DRIFT_CONTROL,
         "comparator_controls": COMPARATOR_CONTROLS, "tpr_cliff": TPR_CLIFF, "hill_climb": HILL_CLIMB,
         "probe_refresh": PROBE_REFRESH, "phase_diagram": PHASE_DIAGRAM, "pooling": POOLING, "oversight": OVERSIGHT,
         "placebo": PLACEBO, "discovered_routing": DISCOVERED_ROUTING}


# --- the tests ---

def holm_keeps(p: float, n_hypotheses: int) -> bool:
    """Whether Holm's correction over ``n_hypotheses`` keeps a verdict with p-value ``p`` whatever the
    others' (the worst case: it is the smallest, compared with alpha / n)."""
    return holm([p] + [1.0] * (n_hypotheses - 1))[0]


PARAMS = [pytest.param(experiment, i, verdict, id=f"{experiment}-{i}-{slug}-{verdict}")
          for experiment, cases in CASES.items() for i, (slug, case) in enumerate(cases) for verdict in case]


@pytest.mark.parametrize("experiment, index, verdict", PARAMS)
def test_hypothesis_verdict_follows_the_data(experiment, index, verdict):
    hypotheses = load(experiment).hypotheses
    data = CASES[experiment][index][1][verdict]
    out = hypotheses[index].evaluate(results(experiment, data))
    assert out["verdict"] == verdict, out
    if verdict != "inconclusive":
        assert holm_keeps(out["p"], len(hypotheses)), out


def test_every_declared_hypothesis_has_a_supported_and_a_contradicted_case():
    assert set(CASES) == set(NAMES)
    for experiment in NAMES:
        cases = CASES[experiment]
        assert len(cases) == len(load(experiment).hypotheses), experiment
        assert all({"supported", "contradicted"} <= set(case) for _, case in cases), experiment
        assert len({slug for slug, _ in cases}) == len(cases), experiment


def test_a_statistic_reading_a_condition_without_data_fails_its_case():
    """What keeps every case explicit: a condition the case leaves out holds no data, so a mean over
    it raises and a share of its seeds has no statistic (inconclusive)."""
    recall, evading = loop_closure.EXPERIMENT.hypotheses[:2]
    with pytest.raises(KeyError):
        recall.evaluate(results("loop_closure", {}))
    assert evading.evaluate(results("loop_closure", {}))["verdict"] == "inconclusive"


def test_synthetic_blocks_hold_their_values_on_average_and_vary_by_seed():
    config = grid("hill_climb")[GL]
    r = fake(config, GL, outcome=mix("caught", 0.25), deception_rate=0.4, evasion_rate=start(0.1, 0.3), **walk(A, B))
    assert r.logged["deception_rate"].shape == (SEEDS, config.run.n_logs)
    np.testing.assert_allclose(r.final("deception_rate").mean(), 0.4)
    np.testing.assert_allclose(r.logged["evasion_rate"].mean(0)[:2], [0.1, 0.3])
    assert r.final("deception_rate").std() > JITTER / 2
    assert np.ptp(r.final("evasion_rate") - r.logged["evasion_rate"][:, 0]) > 0  # a seed's change is its own
    freq = r.logged["plan_freq_by_plan"]
    np.testing.assert_allclose(freq.sum(-1), 1.0)
    assert (freq[:, after_arrival(config) - 1, 1] > 0.9).all() and (freq[:, -1, hill_climb.B] > 0.9).all()
    assert r.share(["caught"]) == (round(0.25 * SEEDS), SEEDS)
