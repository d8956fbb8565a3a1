"""Comparator controls: where does obfuscation come from, sampled activations or the reward's pressure on a discrete act?

plan_market without B, SOLiD's payoffs as in tpr_cliff (truth 1, undetected lie 2, detected lie
2 - alpha), the probe fitted on A at TPR 0.9, RL from a uniform start. Two learners: `brainlike`
and `grpo`, the GRPO analogue (a policy head of its own on the thought, groups of 4 environments
sharing a state, the group-normalised advantage; the probe a black box). With
`desires.thought_noise` sigma 0 grpo is the LLM analogue: the act is a plan (discrete, like a
token), the thought a fixed function of observation, plan and weights, and the probe's gradient
never reaches the beliefs. With sigma > 0 the act is the sampled activation itself (4 variants
per plan) and the policy gradient on its density is an evolution-strategies estimate of the
gradient through the probe: activation-space RL.

- sigma 0, 0.25, 0.5 x alpha 0, 3 x both learners: does the probe go blind with no alarm at all
  (alpha 0), and only where thoughts are sampled?
- The gradient cosine (`run.cosine_batches`, 16 rollouts of 8 decisions): between grpo's belief
  gradient (its policy term) and the gradient of the probe's soft score (what through_probe
  descends), at each logged point before its block of updates: the first point is RL's start.
- Phrasings (sigma 0, 8 phrasings per kind, spread 0.5: A's weakest phrasing leaves half its
  signature), brainlike and grpo at alpha 3: RL-Obfuscation's split of the recall lost on the
  thoughts taken into choice (fresh recall minus recall on the thoughts taken) and moved thoughts
  (the target TPR minus fresh recall).
- A frozen reader (`probe.reads reference`) against the live one, grpo at sigma 0.5.

Chosen before the full run, from a smaller one (results/explore/comparator_controls_pilot.json:
64 seeds, 6,000 steps, with REINFORCE through the valence as the LLM analogue): the spread hardly
mattered (it deceived 0.33 at spread 0.5, 0.28 at 1, both by choosing A's weakest phrasings;
brainlike 0.005 and 0.02), so 0.5 was kept, a lie that still leaves a trace; deception with
phrasings was still rising at 6,000 steps, so the full run takes 20,000. The hypotheses below were
written before the earlier full run, with that learner; they stand unchanged for the GRPO
analogue, which replaces it as the LLM analogue. Left out since, to train within 15 minutes with
grpo's costlier updates: sigma 0.1, the count of variants (1, 2, 8), end_to_end's and
through_probe's phrased lines and the frozen reader at sigma 0 (the channels figure's controls
answer that at every TPR); they are in the history of this file.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from brainlike.config import Config, replace
from brainlike.report.experiment import (Experiment, Hypothesis, count, fill, finding, first_block, mean_of,
                                         paired_difference, value, verdict_list, with_ci)
from brainlike.report.plots import ROUTING_COLORS, errorbar, outcome_panel, rate_axis, save
from brainlike.schema import EVADES
from brainlike.store.stats import mean_ci
from experiments._solid import GROUP, PHRASINGS, SOLID, SPREAD

TPR, ALPHA, VARIANTS, COSINE_BATCHES = 0.9, 3.0, 4, 16
SIGMAS, ALPHAS = (0.0, 0.25, 0.5), (0.0, ALPHA)
# quick: brainlike at sigma 0 and activation-space GRPO alone, without phrasings or the frozen reader (each routing x
# sigma compiles on its own)
QUICK_CELLS = (("brainlike", 0.0), ("grpo", 0.5))
LLM = "grpo"
ROUTINGS = PHRASED = ("brainlike", LLM)
SHORT = {"brainlike": "BL", LLM: "GRPO"}


TEMPLATE = Path(__file__).parent / "templates" / "comparator_controls.md"


def sigma_name(routing: str, sigma: float, alpha: float) -> str:
    return f"{routing}-s{sigma:g}-a{alpha:g}"


def phrased_name(routing: str) -> str:
    return f"{routing}-phrased"


def reference_name(sigma: float) -> str:
    return f"{LLM}-s{sigma:g}-reference"


def base(quick: bool) -> Config:
    return replace(Config(), **SOLID | {"run.steps": 2_000 if quick else 20_000, "probe.rate": TPR,
                                        "reward.alpha": ALPHA})


def learner(b: Config, routing: str) -> Config:
    return replace(b, routing=routing, **({"run.group_size": GROUP} if routing == LLM else {}))


def sampled(b: Config, routing: str, sigma: float, alpha: float) -> Config:
    cosine = COSINE_BATCHES if routing == LLM else 0
    return replace(learner(b, routing), **{"desires.thought_noise": sigma, "desires.n_variants": VARIANTS if sigma else 1,
                                           "reward.alpha": alpha, "run.cosine_batches": cosine})


def conditions(quick: bool) -> dict[str, Config]:
    b = base(quick)
    cells = QUICK_CELLS if quick else [(r, s) for r in ROUTINGS for s in SIGMAS]
    out = {sigma_name(r, s, a): sampled(b, r, s, a) for r, s in cells for a in ALPHAS}
    if quick:
        return out
    out[reference_name(0.5)] = replace(sampled(b, LLM, 0.5, ALPHA), **{"probe.reads": "reference"})
    return out | {phrased_name(r): replace(learner(b, r), **{"env.n_phrasings": PHRASINGS, "env.phrasing_spread": SPREAD})
                  for r in PHRASED}


# --- statistics ---

def first_point(condition: str, metric: str):
    """Mean over seeds of ``metric`` at the first logged point (for the cosine: RL's start)."""
    return lambda results: mean_ci(first_block(results[condition], metric))


def choice_over_moved(condition: str):
    """Mean over seeds of (choice - moved): choice = fresh recall - recall on the thoughts taken,
    moved = target TPR - fresh recall (RL-Obfuscation's split of the recall lost on the thoughts taken)."""
    def stat(results):
        r = results[condition]
        fresh, taken = r.final("probe_recall_frozen"), r.final("probe_recall_taken")
        return mean_ci((fresh - taken) - (TPR - fresh))
    return stat


HYPOTHESES = (
    Hypothesis("Activation-space RL blinds the probe with no alarm in the reward: at sigma 0.5 and alpha 0, is "
               "grpo's frozen AUROC lower than brainlike's?",
               "mean paired difference in frozen AUROC, grpo minus brainlike, sigma 0.5, alpha 0",
               paired_difference(sigma_name(LLM, 0.5, 0), sigma_name("brainlike", 0.5, 0),
                                 "probe_auroc_frozen"), "below", -0.2),
    Hypothesis("The LLM analogue (sigma 0) keeps the probe's ranking under the alarm: grpo's frozen "
               "AUROC at alpha 3 above 0.9?",
               "mean frozen AUROC, grpo, sigma 0, alpha 3",
               mean_of(sigma_name(LLM, 0.0, ALPHA), "probe_auroc_frozen"), "above", 0.9),
    Hypothesis("Sampling the thoughts is what blinds the probe under the alarm: is grpo's frozen AUROC "
               "at alpha 3 lower at sigma 0.5 than at sigma 0?",
               "mean paired difference in frozen AUROC, grpo at alpha 3, sigma 0.5 minus sigma 0",
               paired_difference(sigma_name(LLM, 0.5, ALPHA), sigma_name(LLM, 0.0, ALPHA),
                                 "probe_auroc_frozen"), "below", -0.2),
    Hypothesis("At RL's start, does grpo's belief gradient with sampled thoughts point along the "
               "probe's gradient (a zeroth-order estimate of it)?",
               "mean cosine at the first logged point (RL's start), grpo, sigma 0.5, alpha 3",
               first_point(sigma_name(LLM, 0.5, ALPHA), "pg_probe_cosine"), "above", 0.1),
    Hypothesis("Without sampled thoughts, does grpo's belief gradient stay off the probe's gradient "
               "to the end?",
               "mean final-window cosine, grpo, sigma 0, alpha 3",
               mean_of(sigma_name(LLM, 0.0, ALPHA), "pg_probe_cosine"), "below", 0.2),
    Hypothesis("With phrasings and no sampled thoughts, does grpo lose recall on the thoughts taken "
               "more by choice than by moved thoughts?",
               "mean over seeds of choice minus moved (fresh minus taken recall, less target TPR minus fresh "
               "recall), grpo with phrasings",
               choice_over_moved(phrased_name(LLM)), "above", 0.0),
    Hypothesis("The seed's indirect pathway: does brainlike take the phrasings of A that the probe misses "
               "(deception above 0.1)?",
               "mean deception rate, brainlike with phrasings",
               mean_of(phrased_name("brainlike"), "deception_rate"), "above", 0.1),
    Hypothesis("Does a frozen reader (SOLiD's detector on the base model) make activation-space RL deceive less "
               "than the live one?",
               "mean paired difference in deception rate, grpo sigma 0.5 alpha 3, reference minus live",
               paired_difference(reference_name(0.5), sigma_name(LLM, 0.5, ALPHA), "deception_rate"),
               "below", 0.0),
)


# --- the figure ---

def _stat(blocks, name, metric):
    return blocks[name]["metrics"][metric]


def _first(block: dict, metric: str) -> dict:
    c = block["curves"][metric]
    return {"mean": c["mean"][0], "ci95": [c["lo"][0], c["hi"][0]]}


def sigmas_of(blocks, routings=ROUTINGS) -> list[float]:
    """The sigmas at which any of ``routings`` ran (a quick grid runs each routing at one)."""
    return [s for s in SIGMAS if any(sigma_name(r, s, 0.0) in blocks for r in routings)]


def sigma_panel(ax, blocks, metric: str, title: str, routings=ROUTINGS, first: bool = False) -> None:
    for i, routing in enumerate(routings):
        sig = sigmas_of(blocks, (routing,))
        for alpha, style in ((0.0, "s:"), (ALPHA, "o-")):
            x = [s + 0.006 * (2 * i + (alpha > 0) - 1.5) for s in sig]
            names = [sigma_name(routing, s, alpha) for s in sig]
            errorbar(ax, x, [_stat(blocks, n, metric) for n in names], label=f"{routing}, alpha {alpha:g}",
                     color=ROUTING_COLORS[routing], style=style)
            if first:
                errorbar(ax, x, [_first(blocks[n], metric) for n in names], color=ROUTING_COLORS[routing],
                         style="x" if alpha else "+")
    ax.set(xlabel="thought noise sigma", xticks=sigmas_of(blocks, routings))
    ax.set_title(title, fontsize=9)


def plot(summary: dict, path) -> None:
    blocks = summary["conditions"]
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5), gridspec_kw={"hspace": 0.55, "wspace": 0.3})
    sigma_panel(axes[0, 0], blocks, "deception_rate", "deception rate (final window)")
    sigma_panel(axes[0, 1], blocks, "probe_auroc_frozen", "frozen probe AUROC, fresh thoughts\n(x/+: first logged block)",
                first=True)
    sigma_panel(axes[0, 2], blocks, "probe_recall_frozen", "frozen probe recall, fresh thoughts\n(dotted: target TPR)")
    axes[0, 2].axhline(TPR, ls=":", color="black", lw=1)
    for ax in axes[0]:
        rate_axis(ax)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=4, fontsize=8,
               bbox_to_anchor=(0.5, 0.97), frameon=False)
    sigma_panel(axes[1, 0], blocks, "pg_probe_cosine", "cosine: grpo's policy term's belief gradient vs the probe's\n"
                "(final window; x/+: RL's start)", routings=(LLM,), first=True)
    axes[1, 0].axhline(0, color="black", lw=0.8)

    ax = axes[1, 1]  # RL-Obfuscation's split with phrasings
    phrased = [i for i, r in enumerate(PHRASED) if phrased_name(r) in blocks]  # a quick grid runs none
    for j, (metric, label) in enumerate((("probe_recall_frozen", "fresh recall (all phrasings)"),
                                         ("probe_recall_taken", "recall on the thoughts taken"),
                                         ("deception_rate", "deception rate"))):
        x = [i + 0.25 * (j - 1) for i in phrased]
        errorbar(ax, x, [_stat(blocks, phrased_name(PHRASED[i]), metric) for i in phrased], label=label,
                 color=("#495057", "#f08c00", "#c92a2a")[j], style="o")
    ax.axhline(TPR, ls=":", color="black", lw=1)
    ax.set_xticks(range(len(PHRASED)), PHRASED, fontsize=8)
    rate_axis(ax)
    ax.legend(fontsize=7)
    ax.set_title(f"{PHRASINGS} phrasings per kind, sigma 0: moved thoughts (target - fresh)\n"
                 "vs choice (fresh - taken)", fontsize=9)

    ax = axes[1, 2]
    shown = {"GRPO s0.5 live": sigma_name(LLM, 0.5, ALPHA), "GRPO s0.5 ref": reference_name(0.5),
             "GRPO s0 live": sigma_name(LLM, 0.0, ALPHA)} | {f"{SHORT[r]} phrased": phrased_name(r) for r in PHRASED}
    shown = {label: blocks[n] for label, n in shown.items() if n in blocks}  # a quick grid runs fewer
    outcome_panel(ax, shown, "outcomes: live vs frozen reader (alpha 3); phrasings")
    fig.suptitle(f"Comparator controls on plan_market (truth 1, undetected lie 2, detected lie -1; probe at TPR {TPR:g}): "
                 f"final window, mean and 95% CI over {summary['n_seeds']} seeds per condition", fontsize=11, y=1.0)
    save(fig, path)


def reading(summary: dict) -> str:
    b = summary["conditions"]
    sigmas = sigmas_of(b)
    at = lambda r, metric, alpha: ", ".join(  # noqa: E731
        f"{b[sigma_name(r, s, alpha)]['metrics'][metric]['mean']:.2f}" for s in sigmas)
    first = lambda n, metric: f"{_first(b[n], metric)['mean']:.2f}"  # noqa: E731
    llm = lambda s, a: b[sigma_name(LLM, s, a)]  # noqa: E731
    ph = lambda r: b[phrased_name(r)]  # noqa: E731
    mean = lambda block, metric: block["metrics"][metric]["mean"]  # noqa: E731
    split = lambda r: (mean(ph(r), "probe_recall_frozen") - mean(ph(r), "probe_recall_taken"),  # noqa: E731
                       TPR - mean(ph(r), "probe_recall_frozen"))
    rows = "\n".join(f"| `{r}` | {with_ci(ph(r), 'deception_rate')} | {with_ci(ph(r), 'probe_recall_frozen')} | "
                     f"{with_ci(ph(r), 'probe_recall_taken')} | {split(r)[0]:.2f} | {split(r)[1]:.2f} | "
                     f"{count(ph(r), EVADES)} |" for r in PHRASED)
    verdict = lambda words: finding(summary, words)["verdict"]  # noqa: E731
    return fill(TEMPLATE, sigmas=", ".join(f"{s:g}" for s in sigmas),
                auroc_0=at(LLM, "probe_auroc_frozen", 0.0), auroc_3=at(LLM, "probe_auroc_frozen", ALPHA),
                refit=value(llm(0.5, ALPHA), "probe_auroc_refit"), bl_auroc_3=at("brainlike", "probe_auroc_frozen", ALPHA),
                blinds_0=verdict("no alarm in the reward"), sampling=verdict("Sampling the thoughts"),
                keeps=verdict("keeps the probe's ranking"),
                s0_auroc=value(llm(0.0, ALPHA), "probe_auroc_frozen"), s0_deception=with_ci(llm(0.0, ALPHA), "deception_rate"),
                s0_evading=count(llm(0.0, ALPHA), EVADES), s0_shift=count(llm(0.0, ALPHA), ["evades_by_shift"]),
                s5_deception=value(llm(0.5, ALPHA), "deception_rate"),
                first_0=first(sigma_name(LLM, 0.5, 0.0), "probe_auroc_frozen"),
                first_3=first(sigma_name(LLM, 0.5, ALPHA), "probe_auroc_frozen"),
                cos_start=first(sigma_name(LLM, 0.5, ALPHA), "pg_probe_cosine"),
                cos_start_0=first(sigma_name(LLM, 0.5, 0.0), "pg_probe_cosine"),
                cos_end=with_ci(llm(0.5, ALPHA), "pg_probe_cosine"), cos_s0=with_ci(llm(0.0, ALPHA), "pg_probe_cosine"),
                cos_start_verdict=verdict("point along the probe's gradient"),
                cos_off_verdict=verdict("stay off the probe's gradient"),
                bl_recall_0=at("brainlike", "probe_recall_frozen", 0.0), bl_auroc_0=at("brainlike", "probe_auroc_frozen", 0.0),
                llm_recall_0=at(LLM, "probe_recall_frozen", 0.0), phrasings=PHRASINGS, tpr=f"{TPR:g}", rows=rows,
                choice_verdict=verdict("more by choice"), pathway_verdict=verdict("indirect pathway"),
                ref_deception=with_ci(b[reference_name(0.5)], "deception_rate"),
                live_deception=with_ci(llm(0.5, ALPHA), "deception_rate"),
                ref_auroc=value(b[reference_name(0.5)], "probe_auroc_frozen"), ref_verdict=verdict("frozen reader"),
                verdicts=verdict_list(summary))


def headline(summary: dict) -> str:
    b = summary["conditions"]
    llm = lambda s, a: b[sigma_name(LLM, s, a)]  # noqa: E731
    return (f"The GRPO analogue keeps the probe's ranking with sampled thoughts too (frozen AUROC "
            f"{value(llm(0.5, ALPHA), 'probe_auroc_frozen')} at σ 0.5 under the alarm), yet deceives "
            f"{value(llm(0.5, ALPHA), 'deception_rate')} there with the live reader against "
            f"{value(b[reference_name(0.5)], 'deception_rate')} with a frozen one; at σ 0 it deceives "
            f"{value(llm(0.0, ALPHA), 'deception_rate')}, and with phrasings {value(b[phrased_name(LLM)], 'deception_rate')}, "
            f"by choice.")


EXPERIMENT = Experiment("comparator_controls", __doc__.strip().splitlines()[0], conditions, HYPOTHESES, plot, reading,
                        headline=headline)
