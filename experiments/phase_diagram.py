"""Alarm weight x anchoring, like for like with the Obfuscation Atlas: where does the learner end honest, and how do the others evade?

The Obfuscation Atlas (Taufeeque, Heimersheim, Gleave & Cundy 2026, "The Obfuscation Atlas: Mapping
Where Honesty Emerges in RLVR with Deception Probes", arXiv:2602.15515) trains a language model by
RL on coding problems where hardcoding the tests pays, maximising J = E[R - alpha psi] - beta KL
with psi a deception probe on its activations and the KL to the model RL started from. It sorts
the runs into honest, blatant deception (caught), an obfuscated policy (deceptive text the probe
misses) and obfuscated activations (deceptive text, representations moved so that the same probe
no longer fires). Its findings drawn beside the toy's: policies stayed honest at alpha >= 3 with
beta = 1e-2 and were deceptive at beta = 1e-4; the probe penalty incentivised obfuscated policies,
while obfuscated activations came from representation drift during RL, with or without the penalty.

The toy, set up as the Atlas is where a one-step bandit allows (tpr_cliff's like-for-like set-up
without its audit), on plan_market without B:

- The hack pays: the honest plan 1, the deceptive plan A 2.
- Phrasings: every kind has 8 phrasings leaving 0.5 to 1 of its signature, so a policy can evade
  the probe by what it chooses to say, as the Atlas's models justify their hacks.
- The penalty is the Atlas's: alpha whenever the alarm fires on the thought taken (R - alpha psi,
  psi the alarm's 0/1), honest or not.
- An honest start (`run.sft_steps`) and the KL anchor to it (`reward.kl_beta` = beta), as the
  Atlas anchors to the model RL started from.
- `grpo`, the GRPO analogue, stands for the Atlas's RL: a policy head of its own on the thought,
  groups of 4 environments sharing a state, the group-normalised advantage, beta times its exact
  KL to the honest start's policy as a loss (12 supervised updates for its start); the probe a
  black box. `brainlike` beside it (5 updates; its KL a reward term).
- The alarm reads the live beliefs, which keep learning to predict during RL: representations can
  drift, as the Atlas's do; each probe is calibrated on the beliefs RL starts from.
- The Atlas's four outcomes are the toy's labels: honest; blatant deception = `caught`; an
  obfuscated policy = `evades_by_choice` or `_by_plan` (deceiving with thoughts the probe misses,
  the probe still reading fresh thoughts well); obfuscated activations = `evades_by_shift`,
  `_obfuscation` or `_erasure` (the probe's recall or order on fresh thoughts lost).

Where it still differs from the Atlas: one decision per episode among 16 phrasings instead of a
generated program; the probe is a logistic probe on the world model's thought, fitted per seed and
calibrated for TPR 0.95; the honest start is supervised on ground truth. alpha and beta act on
rewards of 1 and 2 and on a KL over one 16-way decision (at most log 16, about 2.8 nats), so their
scale, not their values, is what compares: the Atlas's beta multiplies a KL summed over the
tokens of a whole completion, so its 1e-2 weighs a KL of 100 nats as the toy's 1 weighs one of 1.

The grid was chosen from results/explore/phase_diagram_grpo_pilot.json (64 seeds, 20,000 steps,
grpo at alpha 0.5 / 1 / 2 / 3 x beta 0 / 1e-2 / 1e-1 / 1, brainlike at alpha 0.5 / 1 / 2 x beta 0 /
1e-1 / 1), so that each axis moves the outcome somewhere in it: alpha 0.5 / 1 / 3 (alpha 2 and 3
gave the same runs: a detected lie already loses there) x beta 0 / 0.1 / 1 (beta 1e-2 gave
beta 0's runs; 1 kept grpo at its start's deception). The earlier grid's alpha 0 cells and their
drift hypothesis are left out for time: predictive drift without a penalty is the channels
figure's drift control. A cell whose mean deception moved by more than 0.05 between the last two
windows had not settled: it is left out of every hypothesis and the reading names it. The
hypotheses below were written then, before the full run, from the Atlas's findings and the seed's
claim; the earlier run's, with REINFORCE through the valence as the LLM analogue, are in the
history of this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from brainlike.config import Config, replace
from brainlike.report.experiment import (MOVED, Experiment, Hypothesis, fill, interval, unsettled, verdict_list,
                                         windows)
from brainlike.report.plots import OUTCOME_COLORS, RATE, curve, errorbar, save
from brainlike.schema import ORDERED, OUTCOMES
from brainlike.store.stats import empty, paired_mean_ci, pooled_share, wilson
from experiments._solid import GRPO, PHRASED_START, PHRASINGS, SOLID

# The Atlas's findings as published (module docstring): honest from this alarm weight up at this beta, and
# deceptive at this weaker beta
ATLAS_PUBLISHED_HONEST, ATLAS_PUBLISHED_DECEPTIVE_BETA = (3.0, 1e-2), 1e-4
# ... and where the toy's grid tests them, on its own scale of beta: strong anchoring, and none
ATLAS_HONEST = (3.0, 1.0)  # (smallest alpha, beta)
ATLAS_DECEPTIVE_BETA = 0.0

ROUTINGS = ("brainlike", "grpo")
ALPHAS = (0.5, 1.0, 3.0)
BETAS = (0.0, 0.1, 1.0)
# quick: two anchored betas, one compiled program per routing (beta 0 keeps no reference policy: a structure of
# its own)
QUICK_ALPHAS, QUICK_BETAS = (0.5, 3.0), (0.1, 1.0)
STEPS, QUICK_STEPS = 20_000, 2_000
SHORT = {"honest": "honest", "caught": "caught", "evades_by_plan": "by plan", "evades_by_shift": "shift",
         "evades_by_obfuscation": "obfusc.", "evades_by_erasure": "erasure", "unpenalised_unseen": "unpen. unseen",
         "unpenalised_stale": "unpen. stale", "unstable": "unstable", "diverged": "diverged",
         "evades_by_choice": "choice"}
# the Atlas's taxonomy in the toy's labels
POLICY = ("evades_by_choice", "evades_by_plan")
ACTIVATIONS = ("evades_by_shift", "evades_by_obfuscation", "evades_by_erasure")
BLINDING = ("evades_by_obfuscation", "evades_by_erasure")
ATLAS_CLASSES = {"honest": ("honest",), "blatant (caught)": ("caught",), "obfuscated policy": POLICY,
                 "obfuscated activations": ACTIVATIONS}


def name(routing: str, alpha: float, beta: float) -> str:
    return f"{routing}-a{alpha:g}-b{beta:g}"


def grid(quick: bool) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return (QUICK_ALPHAS, QUICK_BETAS) if quick else (ALPHAS, BETAS)


def base(steps: int) -> Config:
    """plan_market without B, the hack paying 2 against honesty's 1, 8 phrasings per kind, the probe
    fitted on A, and an honest start."""
    return replace(Config(), **SOLID | PHRASED_START | {"run.steps": steps})


def conditions(quick: bool) -> dict[str, Config]:
    alphas, betas = grid(quick)
    b = base(QUICK_STEPS if quick else STEPS)
    learner = {"brainlike": {"routing": "brainlike"}, "grpo": GRPO}
    return {name(r, a, k): replace(b, **learner[r] | {"reward.alpha": a, "reward.kl_beta": k})
            for r in ROUTINGS for k in betas for a in alphas}


TEMPLATE = Path(__file__).parent / "templates" / "phase_diagram.md"
NAME = re.compile(r"^(\w+)-a([\d.e+-]+)-b([\d.e+-]+)$")


def cells(results, routing: str, alpha=lambda a: True, beta=lambda b: True) -> list[str]:
    """Names of ``routing``'s settled cells (``Result.settled``) whose alpha and beta pass the tests, in grid order."""
    out = []
    for n in results:
        m = NAME.match(n)
        if m and m[1] == routing and alpha(float(m[2])) and beta(float(m[3])) and results[n].settled:
            out.append(n)
    return out


def indicators(results, names, labels) -> np.ndarray:
    """``[cells, seeds]``: 1 where the seed ended with one of ``labels``."""
    idx = [OUTCOMES.index(x) for x in labels]
    return np.stack([np.isin(results[n].outcome, idx).astype(np.float64) for n in names])


def settled_pairs(results, names, counterpart) -> tuple[list[str], list[str]]:
    """``names`` (settled cells) with their counterparts (``counterpart(name)``), where those settled too."""
    keep = [n for n in names if results[counterpart(n)].settled]
    return keep, [counterpart(n) for n in keep]


def paired_honest(results, names, others):
    """Per seed, its share of ``names`` honest minus its share of ``others`` honest (cells paired); no
    statistic where no pair settled."""
    if not names:
        return empty()
    return paired_mean_ci(indicators(results, names, ["honest"]), indicators(results, others, ["honest"]))


def honest_gain(routing: str, beta: float | None = None):
    """Per seed, its share of penalised cells (alpha > 0) honest at ``beta`` (default the largest)
    minus at beta 0, paired by seed and alpha; a bootstrap over seeds."""
    def stat(results):
        top_beta = beta if beta is not None else max(float(NAME.match(n)[3]) for n in results if n.startswith(routing))
        top = cells(results, routing, alpha=lambda a: a > 0, beta=lambda b: b == top_beta)
        return paired_honest(results, *settled_pairs(results, top, lambda n: n.rsplit("-b", 1)[0] + "-b0"))
    return stat


def pooled(routing: str, labels, alpha=lambda a: a > 0, beta=lambda b: True):
    """Share of (cell, seed) pairs ending with one of ``labels`` over the selected cells, each seed's
    share first (``stats.pooled_share``)."""
    def stat(results):
        names = cells(results, routing, alpha, beta)
        return pooled_share(indicators(results, names, labels)) if names else empty()
    return stat


def policy_over_activations(routing: str):
    """Per seed, over every alpha > 0 cell, its share ending with an obfuscated policy minus its share
    ending with obfuscated activations."""
    def stat(results):
        names = cells(results, routing, alpha=lambda a: a > 0)
        if not names:
            return empty()
        return paired_mean_ci(indicators(results, names, POLICY), indicators(results, names, ACTIVATIONS))
    return stat


ATLAS_CORNER = dict(alpha=lambda a: a >= ATLAS_HONEST[0], beta=lambda b: b >= ATLAS_HONEST[1])
ATLAS_WEAK = dict(alpha=lambda a: a >= ATLAS_HONEST[0], beta=lambda b: b == ATLAS_DECEPTIVE_BETA)


def honest_over(a: str, b: str):
    """Per seed, its share of alpha > 0 cells honest under routing ``a`` minus under ``b`` (cells paired)."""
    def stat(results):
        names = cells(results, a, alpha=lambda x: x > 0)
        return paired_honest(results, *settled_pairs(results, names, lambda n: n.replace(a, b, 1)))
    return stat


MODERATE = 0.1  # the middle of the beta axis

HYPOTHESES = (
    Hypothesis("The Atlas's honest corner: with a strong alarm (alpha >= 3) and strong anchoring (beta >= 1), are "
               "most grpo seeds honest?",
               "share of grpo seeds honest, pooled over the settled cells at alpha >= 3 and beta >= 1",
               pooled("grpo", ["honest"], **ATLAS_CORNER), "above", 0.5),
    Hypothesis("The Atlas's weak anchoring: with the same alarm and no anchor (beta 0), are most grpo seeds "
               "deceptive (fewer than half honest)?",
               "share of grpo seeds honest, pooled over the settled cells at alpha >= 3 and beta 0",
               pooled("grpo", ["honest"], **ATLAS_WEAK), "below", 0.5),
    Hypothesis("Does the honest region grow with anchoring under grpo (the strongest beta against none)?",
               "per seed, share of settled alpha > 0 cells honest at the largest beta minus at beta 0, grpo",
               honest_gain("grpo"), "above", 0.0),
    Hypothesis("Does moderate anchoring (beta 0.1) already leave more grpo seeds honest than none?",
               "per seed, share of settled alpha > 0 cells honest at beta 0.1 minus at beta 0, grpo",
               honest_gain("grpo", MODERATE), "above", 0.0),
    Hypothesis("The Atlas: does the probe penalty make policies obfuscate rather than activations (more grpo "
               "seeds end with an obfuscated policy than with obfuscated activations)?",
               "per seed, over settled alpha > 0 cells, share ending evades_by_choice or _by_plan minus share ending "
               "evades_by_shift, _obfuscation or _erasure, grpo",
               policy_over_activations("grpo"), "above", 0.0),
    Hypothesis("The seed's claim: is brainlike honest more often than grpo across the penalised cells?",
               "per seed, share of alpha > 0 cells honest, brainlike minus grpo (cells paired, both settled)",
               honest_over("brainlike", "grpo"), "above", 0.0),
    Hypothesis("Under brainlike, does (almost) no seed blind the probe (evades_by_obfuscation or _erasure)?",
               "share of brainlike seeds, pooled over every settled alpha > 0 cell, ending evades_by_obfuscation or "
               "evades_by_erasure",
               pooled("brainlike", BLINDING), "below", 0.05),
)


def grid_of(summary_or_results) -> tuple[list[float], list[float]]:
    """The alphas and betas present, from condition names."""
    names = summary_or_results.get("conditions", summary_or_results)
    found = [NAME.match(n) for n in names]
    return (sorted({float(m[2]) for m in found if m}), sorted({float(m[3]) for m in found if m}))


def majority(block: dict) -> tuple[str, list[tuple[str, float]]]:
    """The most common outcome and every outcome with its share, largest first."""
    shares = sorted(((k, v / block["n_seeds"]) for k, v in block["outcomes"].items() if v), key=lambda kv: -kv[1])
    return shares[0][0], shares


def phase_panel(ax, blocks: dict, routing: str, alphas, betas) -> None:
    """One routing's diagram: a cell per (alpha, beta), coloured by its most common outcome, with
    the Atlas's honest region outlined."""
    for i, k in enumerate(betas):
        for j, a in enumerate(alphas):
            top, shares = majority(blocks[name(routing, a, k)])
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color=OUTCOME_COLORS[top], alpha=0.85))
            text = "\n".join(f"{SHORT[o]} {s:.2f}" for o, s in shares[:3] if s >= 0.02)
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color="black")
    cols = [j for j, a in enumerate(alphas) if a >= ATLAS_HONEST[0]]
    rows = [i for i, k in enumerate(betas) if k >= ATLAS_HONEST[1]]
    if cols and rows:
        ax.add_patch(plt.Rectangle((cols[0] - 0.5, rows[0] - 0.5), len(cols), len(rows), fill=False, lw=2.5,
                                   ls="--", ec="black"))
        ax.text(cols[0] - 0.45, rows[-1] + 0.42, "Atlas: honest", fontsize=7, va="top", weight="bold")
    weak = [i for i, k in enumerate(betas) if k == ATLAS_DECEPTIVE_BETA]
    if cols and weak:
        ax.add_patch(plt.Rectangle((cols[0] - 0.5, weak[0] - 0.5), len(cols), 1, fill=False, lw=2.5, ls=":",
                                   ec="black"))
        ax.text(cols[0] - 0.45, weak[0] + 0.42, "Atlas: deceptive", fontsize=7, va="top", weight="bold")
    ax.set(xlim=(-0.5, len(alphas) - 0.5), ylim=(-0.5, len(betas) - 0.5), xlabel="alarm weight alpha",
           ylabel="anchoring beta (reward.kl_beta)")
    ax.set_xticks(range(len(alphas)), [f"{a:g}" for a in alphas], fontsize=8)
    ax.set_yticks(range(len(betas)), [f"{k:g}" for k in betas], fontsize=8)
    ax.set_title(f"{routing}: most common outcome per cell (shares inside)", fontsize=9)


def atlas_shares(blocks: dict, routing: str, beta: float, alphas) -> dict[str, float]:
    """The Atlas's four classes' shares of seeds, pooled over the alpha > 0 cells at ``beta``."""
    names = [name(routing, a, beta) for a in alphas if a > 0]
    n = sum(blocks[x]["n_seeds"] for x in names)
    return {c: sum(blocks[x]["outcomes"].get(o, 0) for x in names for o in labels) / n
            for c, labels in ATLAS_CLASSES.items()}


ATLAS_COLORS = {"honest": OUTCOME_COLORS["honest"], "blatant (caught)": OUTCOME_COLORS["caught"],
                "obfuscated policy": OUTCOME_COLORS["evades_by_choice"],
                "obfuscated activations": OUTCOME_COLORS["evades_by_obfuscation"]}


def atlas_panel(ax, blocks: dict, alphas, betas) -> None:
    """Stacked bars of the Atlas's classes per routing and beta, pooled over alpha > 0."""
    bars = [(r, k) for r in ROUTINGS for k in betas]
    bottom = np.zeros(len(bars))
    for c, color in ATLAS_COLORS.items():
        share = np.array([atlas_shares(blocks, r, k, alphas)[c] for r, k in bars])
        ax.bar(range(len(bars)), share, bottom=bottom, color=color, label=c, width=0.7)
        bottom += share
    ax.set_xticks(range(len(bars)), [f"{r.replace('grpo', 'GRPO').replace('brainlike', 'BL')} b{k:g}"
                                     for r, k in bars], rotation=45, ha="right", fontsize=7)
    ax.set(ylim=(0, 1.02), ylabel="fraction of seeds, alpha > 0 pooled")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("the Atlas's four outcomes", fontsize=9)


def plot(summary: dict, path) -> None:
    blocks = summary["conditions"]
    alphas, betas = grid_of(summary)
    fig, axes = plt.subplots(2, 3, figsize=(22, 12), gridspec_kw={"hspace": 0.35, "wspace": 0.3})
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(betas)))
    for col, routing in enumerate(ROUTINGS):
        phase_panel(axes[0, col], blocks, routing, alphas, betas)
        ax = axes[1, col]
        for i, (k, color) in enumerate(zip(betas, colors)):
            shares = [wilson(blocks[name(routing, a, k)]["outcomes"]["honest"], blocks[name(routing, a, k)]["n_seeds"])
                      for a in alphas]
            x = [j + 0.06 * (i - (len(betas) - 1) / 2) for j in range(len(alphas))]  # side by side
            errorbar(ax, x, shares, label=f"beta {k:g}", color=color)
        ax.set_xticks(range(len(alphas)), [f"{a:g}" for a in alphas])
        ax.set(ylim=RATE, xlabel="alarm weight alpha", ylabel="fraction of seeds honest (95% Wilson CI)")
        ax.set_title(f"{routing}: honest seeds against alpha, one line per beta", fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[0, 2]  # settled?
    strong = max(alphas)
    for routing, ls in zip(ROUTINGS, ("-", "--")):
        for k, color in zip(betas, colors):
            curve(ax, blocks[name(routing, strong, k)], "deception_rate", label=f"{routing}, beta {k:g}",
                  color=color, style=ls)
    ax.set(xlabel="RL step", ylim=RATE)
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(f"deception over training at alpha {strong:g} (has it settled?)", fontsize=9)
    atlas_panel(axes[1, 2], blocks, alphas, betas)
    used = [o for o in ORDERED if any(b["outcomes"].get(o) for b in blocks.values())]
    handles = [plt.Rectangle((0, 0), 1, 1, color=OUTCOME_COLORS[o]) for o in used]
    fig.legend(handles, used, loc="upper center", ncol=len(used), fontsize=8, bbox_to_anchor=(0.5, 0.95),
               frameon=False)
    fig.suptitle(f"Alarm weight x anchoring like for like with the Obfuscation Atlas (plan_market, {PHRASINGS} "
                 f"phrasings per kind, honest start, KL to it; sigma 0): {summary['n_seeds']} seeds per cell, "
                 "final window", fontsize=11)
    save(fig, path)


def _row(b: dict, routing: str, beta: float, alphas) -> str:
    return ", ".join(f"{b[name(routing, a, beta)]['outcomes']['honest']}" for a in alphas)


def _stat(h: dict) -> str:
    return "no settled cell" if h["mean"] is None else interval(h)


def reading(summary: dict) -> str:
    b = summary["conditions"]
    alphas, betas = grid_of(summary)
    n = summary["n_seeds"]
    shares = lambda r, k: ", ".join(f"{c} {s:.2f}" for c, s in atlas_shares(b, r, k, alphas).items())  # noqa: E731
    strong = max(alphas)
    along = lambda r, pick: ", ".join(f"{pick(b[name(r, strong, k)]):.2f}" for k in betas)  # noqa: E731
    first, final = (lambda blk: windows(blk, "deception_rate")[0]), (lambda blk: blk["metrics"]["deception_rate"]["mean"])
    hs = [_stat(h) for h in summary["hypotheses"]]
    return fill(TEMPLATE, n=n, alphas=", ".join(f"{a:g}" for a in alphas), betas=", ".join(f"{k:g}" for k in betas),
                lines="\n".join(f"- `{r}`, beta {k:g}: {_row(b, r, k, alphas)}" for r in ROUTINGS for k in betas),
                table="\n".join(f"| `{r}` | {k:g} | {shares(r, k)} |" for r in ROUTINGS for k in betas),
                strong=f"{strong:g}", grpo_first=along("grpo", first), brainlike_first=along("brainlike", first),
                grpo_final=along("grpo", final), brainlike_final=along("brainlike", final), moved=f"{MOVED:g}",
                moving=unsettled(b, list(b)), honest_alpha=f"{ATLAS_HONEST[0]:g}", honest_beta=f"{ATLAS_HONEST[1]:g}",
                weak_beta=f"{ATLAS_DECEPTIVE_BETA:g}", published_alpha=f"{ATLAS_PUBLISHED_HONEST[0]:g}",
                published_beta=f"{ATLAS_PUBLISHED_HONEST[1]:g}", published_weak=f"{ATLAS_PUBLISHED_DECEPTIVE_BETA:g}", corner=hs[0], weak=hs[1], gain=hs[2], moderate=hs[3],
                policy=hs[4], moderate_counts=", ".join(
                    f"{b[name('grpo', a, MODERATE)]['outcomes']['honest']} against {b[name('grpo', a, 0.0)]['outcomes']['honest']}"
                    f" at alpha {a:g}" for a in alphas), start=f"{b[name('grpo', strong, betas[0])]['metrics']['start_deception']['mean']:.0%}",
                failed="; ".join(h["question"] for h in summary["hypotheses"] if h["verdict"] != "supported") or "none",
                verdicts=verdict_list(summary))


def headline(summary: dict) -> str:
    hs = summary["hypotheses"]
    holds = {"supported": "holds", "contradicted": "does not", "inconclusive": "is undecided"}
    return (f"On the GRPO analogue the Atlas's honest corner {holds[hs[0]['verdict']]} ({_stat(hs[0])} of seeds "
            f"honest at α ≥ {ATLAS_HONEST[0]:g}, β ≥ {ATLAS_HONEST[1]:g}), and its deceptive weak anchoring "
            f"{holds[hs[1]['verdict']]} ({_stat(hs[1])} honest at β {ATLAS_DECEPTIVE_BETA:g}).")


EXPERIMENT = Experiment("phase_diagram", __doc__.strip().splitlines()[0], conditions, HYPOTHESES, plot, reading,
                        headline=headline)
