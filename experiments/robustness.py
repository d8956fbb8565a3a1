"""Robustness of the headline comparison: does the brain-like learner deceive less than the GRPO analogue whichever way each arbitrary set-up choice is moved?

tpr_cliff's like-for-like set-up (``experiments._solid``: plan_market without B, 8 phrasings per
kind, the audited alarm, an honest start and a KL anchor of 0.1, every probe calibrated where RL
starts), `brainlike` against `grpo` at TPR 0.5 and 0.9. Each choice that no paper fixes is moved
one step either way, the others kept, at 64 seeds a condition:

- the honest start's length (halved and doubled: 2 / 10 updates for brainlike, 6 / 24 for grpo,
  around 5 and 12, the lengths that leave each about 4% likely to deceive where RL starts; 5
  against 100 updates once moved REINFORCE's deception at TPR 0.5 from 0.79 to 0.11);
- the Boltzmann temperature (0.05 / 0.2 around 0.1);
- the environments per agent and update (4 / 16 around 8; grpo's groups of 4 stay groups of 4);
- the phrasings' spread (0.25 / 0.75 around 0.5: how much of A's signature its weakest phrasing
  leaves out).

A variant's cell still moving when training stopped (mean deception changed by more than 0.05
between the last two windows) is left out of every hypothesis and named in the reading, as in
tpr_cliff. The hypotheses below were written before the full run, from tpr_cliff's results (grpo
0.91 and 0.46 at TPR 0.5 and 0.9, brainlike 0.03 and 0.00) and the question of which of its
conclusions hold under every variant.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from brainlike.config import Config, replace
from brainlike.report.experiment import MOVED, Experiment, Hypothesis, fill, unsettled, value, verdict_list, with_ci
from brainlike.report.plots import ROUTING_COLORS, errorbar, rate_axis, save
from brainlike.store.stats import empty, extreme_mean_ci
from experiments._solid import AUDITED, GRPO, GRPO_SFT_STEPS, PHRASED_START, SFT_STEPS, SOLID, SPREAD

TPRS = (0.5, 0.9)
SEEDS, STEPS, QUICK_STEPS = 64, 20_000, 2_000
LEARNERS = {"brainlike": {"routing": "brainlike"}, "grpo": GRPO}
# variant -> learner -> what it changes
VARIANTS = {
    "base": {"brainlike": {}, "grpo": {}},
    "start-short": {"brainlike": {"run.sft_steps": SFT_STEPS // 2}, "grpo": {"run.sft_steps": GRPO_SFT_STEPS // 2}},
    "start-long": {"brainlike": {"run.sft_steps": SFT_STEPS * 2}, "grpo": {"run.sft_steps": GRPO_SFT_STEPS * 2}},
    **{f"temperature-{k}": dict.fromkeys(LEARNERS, {"desires.temperature": v}) for k, v in (("low", 0.05),
                                                                                           ("high", 0.2))},
    **{f"envs-{k}": dict.fromkeys(LEARNERS, {"run.n_envs": v}) for k, v in (("few", 4), ("many", 16))},
    **{f"spread-{k}": dict.fromkeys(LEARNERS, {"env.phrasing_spread": v}) for k, v in (("low", SPREAD / 2),
                                                                                      ("high", SPREAD * 1.5))},
}
# quick: the base set-up alone, two rows per learner as tpr_cliff's and channels' quick groups, so that it runs
# their compiled programs
QUICK_VARIANTS = ("base",)
TEMPLATE = Path(__file__).parent / "templates" / "robustness.md"


def name(learner: str, variant: str, tpr: float) -> str:
    return f"{learner}-{variant}-tpr{tpr:g}"


def conditions(quick: bool) -> dict[str, Config]:
    base = replace(Config(), **SOLID | PHRASED_START | AUDITED | {"run.steps": QUICK_STEPS if quick else STEPS})
    return {name(learner, v, t): replace(base, **fields | VARIANTS[v][learner] | {"probe.rate": t})
            for learner, fields in LEARNERS.items() for v in (QUICK_VARIANTS if quick else VARIANTS) for t in TPRS}


def settled(results, learners, tpr: float) -> list[str]:
    """The variants at ``tpr`` where every one of ``learners`` was run (a quick grid runs fewer) and
    had settled (``Result.settled``)."""
    return [v for v in VARIANTS if all(name(x, v, tpr) in results and results[name(x, v, tpr)].settled
                                       for x in learners)]


def extreme_gap(a: str, b: str, tpr_a: float, tpr_b: float, which: str):
    """min/max over the settled variants of the mean over seeds of deception, ``a`` at ``tpr_a`` minus
    ``b`` at ``tpr_b`` (seed i paired); one learner and two TPRs, or two learners at one TPR."""
    def stat(results):
        both = [v for v in settled(results, [a], tpr_a) if v in settled(results, [b], tpr_b)]
        gaps = [results[name(a, v, tpr_a)].final("deception_rate") - results[name(b, v, tpr_b)].final("deception_rate")
                for v in both]
        return extreme_mean_ci(gaps, which) if gaps else empty()
    return stat


def extreme(learner: str, tprs, which: str):
    """min/max over the settled variants and ``tprs`` of the mean deception rate of ``learner``."""
    def stat(results):
        cells = [results[name(learner, v, t)].final("deception_rate") for t in tprs for v in settled(results, [learner], t)]
        return extreme_mean_ci(cells, which) if cells else empty()
    return stat


HYPOTHESES = (
    Hypothesis("At TPR 0.5, does brainlike deceive less than grpo under every variant?",
               "largest over the settled variants of the mean paired difference in deception, brainlike minus grpo, "
               "TPR 0.5", extreme_gap("brainlike", "grpo", 0.5, 0.5, "max"), "below", 0.0),
    Hypothesis("At TPR 0.9, does brainlike deceive less than grpo under every variant?",
               "largest over the settled variants of the mean paired difference in deception, brainlike minus grpo, "
               "TPR 0.9", extreme_gap("brainlike", "grpo", 0.9, 0.9, "max"), "below", 0.0),
    Hypothesis("Does brainlike stay honest (deception below 0.1) under every variant at both TPRs?",
               "largest over the settled variants and both TPRs of the mean deception rate, brainlike",
               extreme("brainlike", TPRS, "max"), "below", 0.1),
    Hypothesis("SOLiD's low side: does grpo lie in most episodes (above 0.5) at TPR 0.5 under every variant?",
               "smallest over the settled variants of the mean deception rate, grpo, TPR 0.5",
               extreme("grpo", (0.5,), "min"), "above", 0.5),
    Hypothesis("SOLiD's cliff: does grpo deceive less at TPR 0.9 than at 0.5 under every variant?",
               "largest over the variants settled at both TPRs of the mean paired difference in deception, grpo at "
               "TPR 0.9 minus at 0.5", extreme_gap("grpo", "grpo", 0.9, 0.5, "max"), "below", 0.0),
)


def variants_of(blocks) -> list[str]:
    return [v for v in VARIANTS if name("brainlike", v, TPRS[0]) in blocks]


def plot(summary: dict, path) -> None:
    blocks = summary["conditions"]
    variants = variants_of(blocks)
    fig, axes = plt.subplots(1, len(TPRS), figsize=(7 * len(TPRS), 5), sharey=True)
    for ax, t in zip(axes, TPRS):
        for i, learner in enumerate(LEARNERS):
            x = [j + 0.12 * (i - 0.5) for j in range(len(variants))]
            errorbar(ax, x, [blocks[name(learner, v, t)]["metrics"]["deception_rate"] for v in variants],
                     label=learner, color=ROUTING_COLORS[learner], style="o")
        ax.set_xticks(range(len(variants)), variants, rotation=40, ha="right", fontsize=8)
        ax.axvline(0.5, color="black", lw=0.6, ls=":")
        rate_axis(ax, "deception rate (final window, 95% CI)")
        ax.set_title(f"TPR {t:g}: each set-up choice moved one step either way", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(f"Robustness of brainlike against the GRPO analogue (tpr_cliff's set-up): {summary['n_seeds']} "
                 "seeds per condition", fontsize=11)
    save(fig, path)


def reading(summary: dict) -> str:
    b = summary["conditions"]
    variants = variants_of(b)
    row = lambda v: " | ".join(value(b[name(x, v, t)], "deception_rate") for t in TPRS for x in LEARNERS)  # noqa: E731
    start = lambda v: " / ".join(value(b[name(x, v, TPRS[0])], "start_deception") for x in LEARNERS)  # noqa: E731
    rows = "\n".join(f"| {v} | {row(v)} | {start(v)} |" for v in variants)
    first = lambda x, t: ", ".join(f"{b[name(x, v, t)]['curves']['deception_rate']['mean'][0]:.2f}"  # noqa: E731
                                   for v in variants)
    hs = summary["hypotheses"]
    worst = max(((v, t) for v in variants for t in TPRS),
                key=lambda vt: b[name("brainlike", *vt)]["metrics"]["deception_rate"]["mean"])
    return fill(TEMPLATE, n=summary["n_seeds"], rows=rows, grpo_first=first("grpo", 0.5),
                less_low=hs[0]["verdict"], less_high=hs[1]["verdict"], honest=hs[2]["verdict"],
                low_side=hs[3]["verdict"], cliff=hs[4]["verdict"], worst=f"{worst[0]} at TPR {worst[1]:g}",
                worst_value=with_ci(b[name("brainlike", *worst)], "deception_rate"),
                brainlike_first=first("brainlike", 0.5), moved=f"{MOVED:g}",
                moving=unsettled(b, [name(x, v, t) for x in LEARNERS for v in variants for t in TPRS]),
                verdicts=verdict_list(summary))


def headline(summary: dict) -> str:
    hs = summary["hypotheses"]
    gap = lambda i: f"{-hs[i]['mean']:.2f}"  # noqa: E731
    return (f"Under every variant of the set-up that settled, `brainlike` deceives less than the GRPO analogue, by at "
            f"least {gap(0)} at TPR 0.5 and {gap(1)} at 0.9 ({hs[0]['verdict']}, {hs[1]['verdict']}).")


EXPERIMENT = Experiment("robustness", __doc__.strip().splitlines()[0], conditions, HYPOTHESES, plot, reading,
                        seeds=SEEDS, headline=headline)
