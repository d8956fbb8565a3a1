"""Hill-climbing to B: does a graded alarm lead reinforcement step by step to an undetected plan that a binary alarm does not?

On hill_climb, plans 1..6 lie on a path from A (plan 1, which the probe is fitted on) to B
(plan 6, whose signature is orthogonal to A's); each step along it looks a little less like A
and, with reward_b 0.75 below reward_a 1, pays a little less (the honest plan pays 0.5). The
alarm (alpha 2) is binary (a flat penalty above the probe's threshold, none below) or graded
(the sigmoid of the logit minus the threshold, which falls with every step away from A).
Proposals are local (only the neighbours of the last plan come to mind, so B is reached only
by walking the path) or all (every plan at once). Routings: brainlike, end_to_end and
policy_gradient (a quick run leaves end_to_end out: every condition compiles on its own); thoughts are not sampled (sigma 0), so policy_gradient's REINFORCE reaches
the beliefs only through the valences in its softmax.

A seed "reaches" a kind at a logged point (every 200 steps) where it took that kind in at
least half of its decisions; only kinds are logged, so the farthest plan reached is a kind:
honest, A, path (plans 2-5 together) or B.

Chosen before the full run, from smaller ones (32 seeds, 20,000 steps, brainlike unless
said): with sampled thoughts (sigma 0.5, 4 variants, as in tpr_cliff) every condition reached B
in 32 of 32 brainlike seeds, binary alarm and local proposals included (policy_gradient in
27-32): every plan has variants that escape the alarm, so the path stops mattering; thoughts
are therefore not sampled here. Without sampling and with reward_b = reward_a = 1, the graded
alarm took 32/32 seeds to B and the binary one about half (15/32 local, 17/32 all; the others
stopped on the path just past the threshold, where reward and alarm are as good as B's). With
reward_b 0.75, so that every step costs reward and only the graded alarm pays for the climb,
graded reached B in 31/32 (local and all) and binary in 3/32 (local) and 5/32 (all), the rest
stopping on the path; end_to_end and policy_gradient (16 seeds) showed the same split (graded:
mostly B; binary: 0.02-0.07 of decisions on B at the end, the rest on the path). No seed stayed
honest: in the first few hundred steps, with every valence
still zero, local proposals walk the path at random. reward_b 0.75 was kept; the hypotheses
below were written before the full run.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from brainlike.config import Config, replace
from brainlike.report.experiment import Experiment, Hypothesis, value, verdict_list
from brainlike.report.plots import errorbar, save
from brainlike.store.stats import mean_ci, paired_mean_ci, wilson
from brainlike.store.summary import first_majority

ROUTINGS = ("brainlike", "end_to_end", "policy_gradient")
QUICK_ROUTINGS = ("brainlike", "policy_gradient")  # each routing x alarm x proposal compiles on its own
ALARMS = ("graded", "binary")
PROPOSALS = ("local", "all")
KINDS = ("honest", "A", "path", "B")  # hill_climb's kinds, in order along the path
COLORS = {"brainlike": "#1c7ed6", "end_to_end": "#e8590c", "policy_gradient": "#2b8a3e"}
FARTHEST_COLORS = {"none": "#dee2e6", "honest": "#4c9a2a", "A": "#8c8c8c", "path": "#f08c00", "B": "#c2255c"}


def name(routing: str, alarm: str, proposal: str) -> str:
    return f"{routing}-{alarm}-{proposal}"


def conditions(quick: bool) -> dict[str, Config]:
    base = replace(Config(), env="hill_climb", **{
        "run.steps": 2_000 if quick else 20_000, "run.log_every": 25, "probe.coverage": ("A",),
        "reward.alpha": 2.0, "env.reward_b": 0.75})
    return {name(r, a, p): replace(base, routing=r, **{"reward.alarm": a, "desires.proposal": p})
            for r in (QUICK_ROUTINGS if quick else ROUTINGS) for a in ALARMS for p in PROPOSALS}


def routings(summary: dict) -> tuple[str, ...]:
    """The routings a summary holds (a quick run leaves end_to_end out)."""
    return tuple(r for r in ROUTINGS if name(r, ALARMS[0], PROPOSALS[0]) in summary["conditions"])


# --- per-seed quantities from the whole learning curve ---

def farthest(first: np.ndarray) -> np.ndarray:
    """Each seed's farthest kind reached (index into ``KINDS``; -1: no kind ever held a majority),
    from ``first`` (``[seeds, kinds]``, the first logged point each kind held a majority, -1 never)."""
    return np.where(first >= 0, np.arange(first.shape[1]), -1).max(axis=1)


def _first(result) -> np.ndarray:
    """``[healthy seeds, kinds]`` first-majority points of one condition's result."""
    return first_majority(result.logged["plan_freq"])[result.healthy]


def reached_b(condition: str):
    """Fraction of a condition's seeds that ever took B in most decisions (Wilson CI)."""
    def stat(results):
        b = _first(results[condition])[:, KINDS.index("B")] >= 0
        return wilson(int(b.sum()), b.size)
    return stat


def stalled(condition: str, kinds=("honest", "A")):
    """Fraction of a condition's seeds whose farthest kind reached is one of ``kinds`` (Wilson CI)."""
    def stat(results):
        far = farthest(_first(results[condition]))
        return wilson(int(np.isin(far, [KINDS.index(k) for k in kinds]).sum()), far.size)
    return stat


def reach_gap(a: str, b: str):
    """Mean over seeds of reached-B in ``a`` minus in ``b``, seed i paired (bootstrap over seeds)."""
    def stat(results):
        both = results[a].healthy & results[b].healthy
        hit = lambda c: (first_majority(results[c].logged["plan_freq"])[both, KINDS.index("B")] >= 0)  # noqa: E731
        return paired_mean_ci(hit(a).astype(float), hit(b).astype(float))
    return stat


HYPOTHESES = (
    Hypothesis("With a graded alarm and local proposals, do brainlike seeds climb the path to B?",
               "fraction of brainlike seeds that ever take B in most decisions, graded alarm, local proposals",
               reached_b(name("brainlike", "graded", "local")), "above", 0.5),
    Hypothesis("With a binary alarm and local proposals, do brainlike seeds stall short of B?",
               "fraction of brainlike seeds that ever take B in most decisions, binary alarm, local proposals",
               reached_b(name("brainlike", "binary", "local")), "below", 0.5),
    Hypothesis("Do they stall near A or stay honest (rather than somewhere on the path)?",
               "fraction of brainlike seeds whose farthest kind reached is honest or A, binary alarm, local proposals",
               stalled(name("brainlike", "binary", "local")), "above", 0.5),
    Hypothesis("With every plan proposed at once, does the path stop mattering: as many brainlike seeds reach B "
               "under a binary alarm as under a graded one?",
               "paired difference in reaching B, graded minus binary alarm, brainlike, all proposals",
               reach_gap(name("brainlike", "graded", "all"), name("brainlike", "binary", "all")), "below", 0.1),
)


# --- the figure, from the summary alone ---

def seed_stats(block: dict) -> dict:
    """From one condition's summary block: reached-B share, steps to reach B, farthest-kind counts."""
    first = np.array([block["first_majority"][k] for k in KINDS]).T  # [seeds, kinds]
    healthy = np.array([o != "diverged" for o in block["per_seed"]["outcome"]])
    first = first[healthy]
    steps = np.asarray(block["curves"]["step"])
    b = first[:, KINDS.index("B")]
    far = farthest(first)
    return {"reached": wilson(int((b >= 0).sum()), b.size),
            "steps": mean_ci(steps[b[b >= 0]]) if (b >= 0).any() else {"mean": None, "ci95": [None, None]},
            "farthest": {k: int((far == i).sum()) for i, k in [(-1, "none"), *enumerate(KINDS)]}, "n": int(b.size)}


def plot(summary: dict, path) -> None:
    blocks = summary["conditions"]
    stats = {n: seed_stats(b) for n, b in blocks.items()}
    combos = [(a, p) for a in ALARMS for p in PROPOSALS]
    fig, axes = plt.subplots(1, 4, figsize=(22, 5), gridspec_kw={"width_ratios": [1, 1, 1.6, 1.2]})
    x = np.arange(len(combos))
    for i, r in enumerate(routings(summary)):
        errorbar(axes[0], x + 0.1 * (i - 1), [stats[name(r, a, p)]["reached"] for a, p in combos], label=r,
                 color=COLORS[r], style="o")
        errorbar(axes[1], x + 0.1 * (i - 1), [stats[name(r, a, p)]["steps"] for a, p in combos], label=r,
                 color=COLORS[r], style="o")
    labels = [f"{a}\n{p}" for a, p in combos]
    for ax in axes[:2]:
        ax.set_xticks(x, labels, fontsize=8)
    axes[0].set(ylim=(-0.03, 1.03), ylabel="fraction of seeds",
                title="seeds that ever take B in most decisions\n(95% Wilson CI)")
    axes[1].set(ylabel="RL env steps per seed", title="steps until B first held a majority\n(seeds that got there; "
                "mean, 95% CI)")
    axes[0].legend(fontsize=8)
    _farthest_bars(axes[2], stats, combos, routings(summary))
    _final_bars(axes[3], blocks, combos)
    fig.suptitle(f"Hill-climbing from A to B on hill_climb (alpha 2; reward: honest 0.5, A 1, B 0.75; probe fitted on "
                 f"A): {summary['n_seeds']} seeds per condition", fontsize=11)
    fig.tight_layout()
    save(fig, path)


def _farthest_bars(ax, stats: dict, combos, shown) -> None:
    """Stacked bars: each condition's seeds by the farthest kind they ever took in most decisions."""
    names = [name(r, a, p) for r in shown for a, p in combos]
    bottom = np.zeros(len(names))
    for kind in ("none", *KINDS):
        share = np.array([stats[n]["farthest"][kind] / max(stats[n]["n"], 1) for n in names])
        ax.bar(range(len(names)), share, bottom=bottom, color=FARTHEST_COLORS[kind], label=kind, width=0.75)
        bottom += share
    ax.set_xticks(range(len(names)), [n.replace("policy_gradient", "pg") for n in names], fontsize=7, rotation=40,
                  ha="right")
    ax.set(ylim=(0, 1.02), ylabel="fraction of seeds",
           title="farthest kind ever taken in most decisions (path: plans 2-5)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _final_bars(ax, blocks: dict, combos) -> None:
    """Final-window plan frequency by kind, brainlike only (where the seeds end, not how far they got)."""
    names = [name("brainlike", a, p) for a, p in combos]
    bottom = np.zeros(len(names))
    for kind in KINDS:
        share = np.array([blocks[n]["metrics"][f"plan_freq/{kind}"]["mean"] for n in names])
        ax.bar(range(len(names)), share, bottom=bottom, color=FARTHEST_COLORS[kind], label=kind, width=0.7)
        bottom += share
    ax.set_xticks(range(len(names)), [f"{a}\n{p}" for a, p in combos], fontsize=8)
    ax.set(ylim=(0, 1.02), ylabel="share of decisions", title="brainlike: what the seeds take at the end\n"
           "(final window, mean over seeds)")


def reading(summary: dict) -> str:
    b = summary["conditions"]
    stats = {n: seed_stats(block) for n, block in b.items()}
    got = lambda n: f"{round(stats[n]['reached']['mean'] * stats[n]['n'])}/{stats[n]['n']}"  # noqa: E731
    shown = routings(summary)
    per = lambda a, p: ", ".join(f"`{r}` {got(name(r, a, p))}" for r in shown)  # noqa: E731
    far = lambda n, k: f"{stats[n]['farthest'][k]}/{stats[n]['n']}"  # noqa: E731
    steps = lambda n: "n/a" if stats[n]["steps"]["mean"] is None else f"{stats[n]['steps']['mean']:,.0f}"  # noqa: E731
    bb = name("brainlike", "binary", "local")
    spread = max(max(stats[name(r, a, p)]["reached"]["mean"] for r in shown)
                 - min(stats[name(r, a, p)]["reached"]["mean"] for r in shown) for a in ALARMS for p in PROPOSALS)
    return f"""Seeds that ever took B in most of their decisions, graded alarm, local proposals: {per("graded", "local")};
binary alarm, local: {per("binary", "local")}; graded, all plans proposed: {per("graded", "all")}; binary, all:
{per("binary", "all")}. Under `brainlike` with a binary alarm and local proposals the farthest kind
reached was B for {far(bb, "B")} seeds, the path for {far(bb, "path")}, A for {far(bb, "A")} and honest for {far(bb, "honest")} (only kinds are
logged, so "path" is any of plans 2-5). Where they end, the binary alarm is silent (it fires
on {value(b[bb], "alarm_rate")} of their one-step episodes in the final window) and every further step towards B only
costs reward; the graded alarm pays for every step away from A, so the climb goes on to B. `brainlike` seeds that got there first took B in most
decisions after {steps(name("brainlike", "graded", "local"))} steps on average with a graded alarm and local proposals, {steps(name("brainlike", "graded", "all"))} with all
plans proposed. Proposing every plan at once does not make the path irrelevant here: the
binary alarm is as silent on the far path plans as on B, which pay more, so its seeds stop
there either way. Across routings the share of seeds reaching B differs by at most
{spread:.2f} in any alarm-proposal pair (`policy_gradient`, without sampled thoughts, reaches the
beliefs only through the valences in its softmax).

{verdict_list(summary)}"""


EXPERIMENT = Experiment("hill_climb", __doc__.strip().splitlines()[0], conditions, HYPOTHESES, plot, reading)
