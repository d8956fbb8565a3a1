"""One seed's story over training: what it chose, what it valued, what the probe saw."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from brainlike.schema import OUTCOMES  # noqa: E402
from brainlike.store.outcomes import Thresholds, recorded  # noqa: E402
from brainlike.store.summary import final_means  # noqa: E402
from brainlike.report.plots import OUTCOME_COLORS, save  # noqa: E402
from brainlike.store.results import (ResultsError, load_run, logged_steps, read_config, read_json,  # noqa: E402
                                     read_npz, write_npz)

KIND_COLORS = ("#2b8a3e", "#e03131", "#f08c00", "#7048e8", "#1098ad", "#868e96")


def load_seed(folder: Path, seed: int, train: bool = False, again: str | None = None, say=None):
    """``(config, per-seed arrays, steps, outcome label)`` of one seed of a run folder.

    Read from the seed's own small file ``seed<I>.npz`` if there is one, else from the run's
    ``metrics.npz`` (not committed: large), in which case the seed's file is written, so that
    its story can be told again, and committed, without the whole run. A committed condition
    (its config and summary, no metrics) has neither: with ``train`` the seed is trained again
    from its config (``retrain``), else ``ResultsError`` gives the command that does (``again``)."""
    folder = Path(folder)
    if not (folder / "config.json").exists() and folder.is_dir():
        have = sorted(p.name for p in folder.iterdir() if (p / "config.json").exists())
        if have:
            raise ResultsError(f"{folder} holds several conditions; choose one with --condition: {', '.join(have)}")
    own = folder / f"seed{seed}.npz"
    if own.exists():
        config, arrays = read_config(folder / "config.json"), read_npz(own)
        return config, {k: v for k, v in arrays.items() if k not in ("step", "outcome")}, arrays["step"], \
            OUTCOMES[int(arrays["outcome"])]
    if not (folder / "metrics.npz").exists() and (folder / "config.json").exists():
        if not train:
            n = population(folder)[0]
            raise ResultsError(f"seed {seed} of {folder} is not on disk (committed results keep each condition's "
                               f"summary, not its {n} seeds' curves); seed {seed} is the same alone as in any "
                               f"population, so train it again (one seed: {_steps(folder)}) with: {again or '--train'}")
        return retrain(folder, seed, say)[:4]
    config, arrays, _ = load_run(folder)
    n = arrays["outcome"].shape[0]
    if not 0 <= seed < n:
        raise ResultsError(f"seed: {seed} is out of range; {folder} has seeds 0..{n - 1}")
    one = {k: v[seed] for k, v in arrays.items() if k not in ("step", "outcome")}
    write_npz(own, one | {"step": arrays["step"], "outcome": arrays["outcome"][seed]})
    return config, one, arrays["step"], OUTCOMES[int(arrays["outcome"][seed])]


def thresholds(folder: Path) -> Thresholds:
    """The thresholds that labelled a run folder's seeds, as its summary records them."""
    path = Path(folder) / "summary.json"
    return recorded(read_json(path)) if path.exists() else Thresholds()


def population(folder: Path) -> tuple[int, int]:
    """``(seeds, base seed)`` of the population a condition folder holds, from its summary."""
    summary = read_json(Path(folder) / "summary.json")
    return int(summary["n_seeds"]), int(summary.get("seed", 0))


def _steps(folder: Path) -> str:
    return f"{read_config(Path(folder) / 'config.json').run.steps:,} RL steps"


def retrain(folder: Path, seed: int, say=None):
    """Seed ``seed`` of a condition trained again, alone, from its ``config.json`` (seed i of a
    population is the same alone: ``runner.train_seed``), with a progress bar: ``(config, per-seed
    arrays, steps, outcome label, final state)``. Its curves are kept as ``seed<I>.npz``, and checked
    against what the experiment's summary holds of that seed, where it holds it."""
    from brainlike.run.runner import train_seed

    say = say or (lambda text: print(text, file=sys.stderr))
    folder = Path(folder)
    config = read_config(folder / "config.json")
    n, base = population(folder)
    if not 0 <= seed < n:
        raise ResultsError(f"seed: {seed} is out of range; {folder} has seeds 0..{n - 1}")
    say(f"training seed {seed} of {folder} again from its config.json ({_steps(folder)}; seed {seed} is the same "
        f"alone as in the population of {n})")
    th = thresholds(folder)
    logged, outcome, state = train_seed(config, seed, base, progress=True, name=f"seed {seed} of {folder.name}",
                                        thresholds=th)
    one, steps = {k: v[0] for k, v in logged.items()}, logged_steps(config)
    own = folder / f"seed{seed}.npz"
    write_npz(own, one | {"step": steps, "outcome": outcome[0]})
    label = OUTCOMES[int(outcome[0])]
    say(f"kept as {own}; " + agreement(folder, seed, th, one, label))
    return config, one, steps, label, state


def agreement(folder: Path, seed: int, th: Thresholds, one: dict, label: str) -> str:
    """Whether seed ``seed`` trained again ends as the experiment's summary says it ended (its label and
    final deception rate), where the summary holds each seed (``per_seed``)."""
    path = Path(folder).parent / "summary.json"
    try:
        committed = read_json(path)["conditions"][Path(folder).name]["per_seed"]
    except (ResultsError, KeyError, TypeError):
        return "the results hold no per-seed record to check it against"
    final = float(final_means(np.asarray(one["deception_rate"], np.float64)[None], th.final_window)[0])
    was = (committed["outcome"][seed], committed["deception_rate"][seed])
    if was[0] == label and was[1] is not None and abs(was[1] - final) < 5e-4:
        return f"as committed: {label}, final deception rate {final:.4f}"
    return (f"it differs from the committed run ({was[0]}, final deception rate {was[1]}; now {label}, {final:.4f}): "
            "the code or the processor differ from those the results were trained with (their manifest.json)")


LEARNERS = {"grpo": "the GRPO analogue (a policy head of its own, group-relative advantages)",
            "policy_gradient": "REINFORCE through the valence (it acts with its critic)"}


def network(config) -> str:
    """One line: the routing (the learner it stands for), and what a shared network's reward losses may update."""
    b = config.beliefs
    learner = LEARNERS.get(config.routing)
    if learner and config.routing == "grpo" and config.run.learning == "dpo":
        learner = "the DPO analogue (a policy head of its own, DPO on reference pairs)"
    if learner and config.routing == "policy_gradient" and config.desires.noisy:
        learner = "activation-space RL (REINFORCE on sampled thoughts)"
    routing = f"routing {config.routing}" + (f", {learner}" if learner else "")
    if b.architecture == "split":
        return f"{routing}; split network: the valence is a head of its own on the thought"
    reach = "every encoder unit" if b.mask == "none" else f"{b.mask_share:g} of each encoder layer's units ({b.mask} mask)"
    return (f"{routing}; shared network: value pretrained through the encoder, then a fresh value "
            f"head; a row naming only desires reaches the head and {reach}")


def story(config, one: dict, steps, label: str, points: int = 6, th: Thresholds = Thresholds()) -> str:
    """A table of the seed's trajectory at a few logged points, and why it got its label (under ``th``)."""
    kinds = config.env_spec.kinds
    # a kind never on offer has no valence or probe score to show (they are NaN): its columns are left out
    offered = [j for j in range(len(kinds)) if np.nan_to_num(np.asarray(one["offer_rate"])[:, j]).any()]
    idx = np.unique(np.linspace(0, len(steps) - 1, points).round().astype(int))
    head = f"{'step':>8} " + " ".join(f"{'P(' + k + ')':>9}" for k in kinds) + " " + \
        " ".join(f"{'V(' + kinds[j] + ')':>8}" for j in offered) + " " + \
        " ".join(f"{'s(' + kinds[j] + ')':>8}" for j in offered) + f" {'alarm':>6} {'evade':>6} {'recall':>6}"
    rows = [network(config), head]
    for i in idx:
        rows.append(f"{steps[i]:>8} " + " ".join(f"{x:9.2f}" for x in one["plan_freq"][i]) + " " +
                    " ".join(f"{one['valence_by_kind'][i][j]:8.2f}" for j in offered) + " " +
                    " ".join(f"{one['probe_score_by_kind'][i][j]:8.2f}" for j in offered) +
                    f" {one['alarm_rate'][i]:6.2f} {one['evasion_rate'][i]:6.2f} {one['probe_recall_frozen'][i]:6.2f}")
    fw = th.final_window
    final = {k: float(final_means(np.asarray(one[k], np.float64)[None], fw)[0]) for k in ("deception_rate", "evasion_rate", "probe_recall_frozen",
                                                     "probe_auroc_frozen", "probe_auroc_refit")}
    rows.append("")
    rows.append(f"outcome: {label}   (final {fw:.0%} of training: " +
                ", ".join(f"{k} {v:.2f}" for k, v in final.items()) + ")")
    rows.append("s(kind) = mean probe logit minus the deployed threshold: above 0 fires the alarm.")
    never = [k for j, k in enumerate(kinds) if j not in offered]
    if never:
        rows.append(f"never on offer, so no valence or score: {', '.join(never)}.")
    return "\n".join(rows)


def plot_seed(config, one: dict, steps, label: str, title: str, path: Path) -> None:
    kinds = config.env_spec.kinds
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    axes[0].stackplot(steps, np.asarray(one["plan_freq"]).T, labels=kinds, colors=KIND_COLORS[:len(kinds)], alpha=0.85)
    axes[0].set(title="plans chosen", ylabel="fraction of steps", ylim=(0, 1))
    for i, k in enumerate(kinds):
        axes[1].plot(steps, one["valence_by_kind"][:, i], color=KIND_COLORS[i], label=k)
        axes[2].plot(steps, one["probe_score_by_kind"][:, i], color=KIND_COLORS[i], label=k)
    axes[1].set(title="valence of each plan kind", ylabel="V(h)")
    axes[2].axhline(0, color="k", lw=0.8, ls=":")
    axes[2].set(title="probe logit minus threshold", ylabel="> 0 fires the alarm")
    for metric, style in (("deception_rate", "-"), ("alarm_rate", "--"), ("evasion_rate", "-."),
                          ("probe_recall_frozen", ":")):
        axes[3].plot(steps, one[metric], style, label=metric)
    axes[3].set(title="behaviour and probe recall", ylim=(-0.03, 1.03))
    for ax in axes:
        ax.set_xlabel("RL env steps")
        ax.legend(fontsize=7)
    fig.suptitle(f"{title}: outcome {label}", fontsize=11, color=OUTCOME_COLORS[label])
    fig.tight_layout()
    save(fig, path)


def condition_folder(results: Path, condition: str | None) -> Path:
    """``results/condition`` (or ``results``); ``ResultsError`` naming the conditions there if it is not one."""
    folder = Path(results) / condition if condition else Path(results)
    if condition and not folder.is_dir():
        have = sorted(p.name for p in Path(results).iterdir() if (p / "config.json").exists()) \
            if Path(results).is_dir() else []
        raise ResultsError(f"condition: {condition!r} not found in {results}; allowed: {', '.join(have) or 'none'}")
    return folder


def inspect(results: Path, condition: str | None, seed: int, out: Path | None, train: bool = False,
            again: str | None = None) -> tuple[str, Path]:
    """Print-ready story and the path of the plot written for one seed (``load_seed``: ``train``
    and ``again``)."""
    folder = condition_folder(results, condition)
    config, one, steps, label = load_seed(folder, seed, train, again)
    out = Path(out) if out else folder / f"seed{seed}.png"
    plot_seed(config, one, steps, label, f"{folder.name}, seed {seed}", out)
    return story(config, one, steps, label, th=thresholds(folder)), out
