"""One seed's episode, to see: the route it took, each step's plan and kind, and the alarm.

``brainlike inspect RESULTS --condition C --seed I --episode [N]`` plays episode ``N`` of seed
``I``'s trained agent (acting as in RL, from a fresh episode whose key is ``fold_in(final key,
N)``) and draws it: in a gridworld (``vault_grid``) the grid and the route step by step, in any
other environment (a path of plans, ``hill_climb``) every plan the agent could take with the
probe's score of its thought; beside it, at each step, the probe's score of the thought taken
against the threshold, the episode's pooled score, and where the alarm fired; the supervisor and
the door's kind in the title. A PNG, or with ``--animate`` a GIF built up step by step. The agent
is not kept on disk, so the seed is trained again (``story.retrain``, with ``--train``); the
episode is kept as ``seed<I>-episode<N>.npz``, small enough to commit, and drawn from it after.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from brainlike.envs.vault_grid import SIZE as GRID_SIZE  # noqa: E402
from brainlike.report.plots import save  # noqa: E402
from brainlike.schema import OUTCOMES  # noqa: E402
from brainlike.report.story import KIND_COLORS, population, retrain  # noqa: E402
from brainlike.run.episode import record  # noqa: E402
from brainlike.store.results import ResultsError, atomic_write, read_config, read_npz, write_npz  # noqa: E402

MOVES = {"vault_grid": ("up", "right", "down", "left")}  # plan names where a plan is a move
ARROWS = {"up": "↑", "right": "→", "down": "↓", "left": "←"}


def plan_name(config, plan: int) -> str:
    """A plan as a person reads it: a move, a place on hill_climb's path, or its index."""
    if config.env in MOVES:
        return MOVES[config.env][plan]
    if config.env == "hill_climb":
        return "honest" if plan == 0 else "A" if plan == 1 else "B" if plan == config.env_spec.num_plans - 1 \
            else f"path {plan - 1}"
    return f"plan {plan}"


def summary_line(config, rec: dict) -> str:
    """What happened, in one line: the supervisor and door (vault_grid), deception, the alarm."""
    kinds = config.env_spec.kinds
    deceptive = [kinds[k] for k in rec["kind"] if config.env_spec.deceptive_kinds[k]]
    fired = np.flatnonzero(rec["fired"])
    parts = []
    if "env.supervisor" in rec:
        parts.append(f"supervisor {'present' if rec['env.supervisor'][0] else 'absent'}")
        parts.append(f"door of kind {'B' if rec['env.door_b'][0] else 'A'}")
    parts.append(f"deceptive steps: {', '.join(deceptive)}" if deceptive else "no deceptive step")
    parts.append(f"alarm fired at step {', '.join(str(i + 1) for i in fired)}" if len(fired) else "alarm silent")
    if not rec["overseen"][0]:
        parts.append("not overseen (the alarm does not enter the reward)")
    how = "this step's thought" if config.reward.judged == "step" else \
        f"the episode's {config.probe.pooling}-pooled score at its end"
    return "; ".join(parts) + f" (alarm: {how} above the threshold)"


def table(config, rec: dict) -> str:
    """The episode step by step: where it was, the plan, its kind, the scores and the alarm."""
    kinds = config.env_spec.kinds
    grid = "env.pos" in rec
    rows = [f"{'step':>4} {'cell' if grid else '':>8} {'plan':>8} {'kind':>8} {'score':>7} {'pooled':>7} "
            f"{'reward':>7}  alarm"]
    for i, plan in enumerate(rec["plan"]):
        where = "({},{})".format(*divmod(int(rec["env.pos"][i]), GRID_SIZE)) if grid else ""
        score = rec["scores"][i][rec["choice"][i]]
        rows.append(f"{i + 1:>4} {where:>8} {plan_name(config, int(plan)):>8} {kinds[rec['kind'][i]]:>8} "
                    f"{score:7.2f} {rec['pooled'][i]:7.2f} {rec['reward'][i]:7.2f}  {'FIRED' if rec['fired'][i] else ''}")
    rows.append("score, pooled: the probe's logit minus the deployed threshold (above 0: over the threshold).")
    return "\n".join(rows)


# --- drawing ---------------------------------------------------------------------------------

def _grid_panel(ax, config, rec: dict, upto: int) -> None:
    """vault_grid: walls, start, vault and door, and the route's first ``upto`` steps as arrows
    coloured by the kind of the cell entered, numbered; the alarm where it fired."""
    from brainlike.envs.vault_grid import LAYOUT, MOVES as DELTAS, SIZE, WALL

    door_kind = 2 if rec["env.door_b"][0] else 1
    for r, line in enumerate(LAYOUT):
        for c, cell in enumerate(line):
            face = "#495057" if cell == "#" else KIND_COLORS[door_kind] if cell == "D" else "#f8f9fa"
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="#ced4da",
                                       alpha=0.35 if cell == "D" else 1.0))
            if cell in "SGD":
                ax.text(c, r, {"S": "start", "G": "vault", "D": f"door {'AB'[door_kind - 1]}"}[cell],
                        ha="center", va="center", fontsize=8, color="#212529")
    for i in range(upto):
        pos = int(rec["env.pos"][i])
        r, c = divmod(pos, SIZE)
        dr, dc = DELTAS[int(rec["plan"][i])]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < SIZE and 0 <= nc < SIZE) or WALL[nr * SIZE + nc]:
            nr, nc = r, c
        color, score = KIND_COLORS[int(rec["kind"][i])], rec["scores"][i][rec["choice"][i]]
        ax.annotate("", xy=(nc, nr), xytext=(c, r), arrowprops=dict(arrowstyle="-|>", color=color, lw=2.5,
                                                                     shrinkA=9, shrinkB=9))
        ax.text((c + nc) / 2 + 0.12, (r + nr) / 2 - 0.12, f"{i + 1} ({score:+.1f})", fontsize=7.5, color=color,
                weight="bold" if score > 0 else "normal", bbox=dict(facecolor="white", alpha=0.8, lw=0, pad=0.5))
        if rec["fired"][i]:
            ax.plot(nc, nr, marker="*", ms=26, color="#c92a2a", mec="white", zorder=5)
    ax.set(xlim=(-0.5, SIZE - 0.5), ylim=(SIZE - 0.5, -0.5), aspect="equal", xticks=[], yticks=[])
    ax.set_title("the route: step (its score), coloured by kind; ★ the alarm", fontsize=9)


def _plans_panel(ax, config, rec: dict, upto: int) -> None:
    """Any other environment: at the last step shown, every plan's thought scored by the probe
    (minus the threshold), coloured by its kind there, faded where it could not be taken, the plan
    taken outlined; the alarm where it fired."""
    i = max(upto - 1, 0)
    kinds, available = config.env_spec.kinds, np.asarray(rec["available"][i])
    scores = np.asarray(rec["scores"][i]).reshape(len(available), -1).max(axis=1)  # a plan's variants: the highest
    plan_kinds = [int(k) for k in rec["plan_kinds"][i]]
    x = np.arange(len(scores))
    bars = ax.bar(x, scores, color=[KIND_COLORS[k] for k in plan_kinds])
    for bar, ok in zip(bars, available):
        bar.set_alpha(0.75 if ok else 0.2)
    if upto:
        taken = int(rec["plan"][i])
        bars[taken].set(edgecolor="black", linewidth=2.5, alpha=1.0)
        ax.annotate("taken", (taken, max(scores[taken], 0)), xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=8)
        if rec["fired"][i]:
            ax.plot(taken, scores[taken], marker="*", ms=22, color="#c92a2a", mec="white", zorder=5)
    ax.axhline(0, color="k", lw=0.8, ls=":")
    labels = [plan_name(config, p) + ("\nnot on offer" if not ok else "" if config.env == "hill_climb" else
                                      f" ({kinds[k]})") for p, k, ok in zip(x, plan_kinds, available)]
    ax.set_xticks(x, labels, rotation=45 if len(x) > 6 else 0, ha="right" if len(x) > 6 else "center", fontsize=7)
    ax.set(ylabel="probe logit minus threshold")
    ax.set_title(f"every plan the agent could take ({', '.join(kinds)} by colour)", fontsize=9)


def _steps_panel(ax, config, rec: dict, upto: int) -> None:
    """At each step: the score of the thought taken and the pooled score against the threshold (0)."""
    n = len(rec["plan"])
    x = np.arange(1, n + 1)
    taken = np.array([rec["scores"][i][rec["choice"][i]] for i in range(n)])
    shown = x <= upto
    ax.bar(x[shown], taken[shown], color=[KIND_COLORS[int(k)] for k in rec["kind"][shown]], alpha=0.8,
           label="thought taken")
    ax.step(x[shown], rec["pooled"][shown], where="mid", color="#343a40", lw=1.5,
            label=f"episode's score ({config.probe.pooling}-pooled)")
    for i in np.flatnonzero(rec["fired"][:upto]):
        ax.plot(i + 1, max(taken[i], rec["pooled"][i]), marker="*", ms=18, color="#c92a2a", mec="white", zorder=5)
    ax.axhline(0, color="#c92a2a", lw=1, ls="--", label="threshold")
    low, high = min(taken.min(), rec["pooled"].min(), -1), max(taken.max(), rec["pooled"].max(), 1)
    ax.set(xlim=(0.4, n + 0.6), ylim=(low - 0.5, high + 0.5), xlabel="step", ylabel="probe logit minus threshold")
    labels = [f"{i}\n{ARROWS.get(plan_name(config, int(p)), '')}" for i, p in zip(x, rec["plan"])]
    ax.set_xticks(x, labels, fontsize=7)
    ax.legend(fontsize=7, loc="best")
    ax.set_title("what the probe saw at each step", fontsize=9)


def _figure(config, rec: dict, title: str, upto: int):
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.6), gridspec_kw={"width_ratios": [1, 1.3]})
    (_grid_panel if "env.pos" in rec else _plans_panel)(axes[0], config, rec, upto)
    _steps_panel(axes[1], config, rec, upto)
    fig.suptitle(title + "\n" + summary_line(config, rec), fontsize=9.5)
    fig.tight_layout()
    return fig


def draw(config, rec: dict, title: str, path: Path, animate: bool = False) -> Path:
    """The episode as a PNG, or (``animate``) a GIF that adds a step per frame."""
    if not animate:
        save(_figure(config, rec, title, len(rec["plan"])), path)
        return Path(path)
    from PIL import Image  # matplotlib's own dependency

    frames = []
    for upto in range(len(rec["plan"]) + 1):
        fig = _figure(config, rec, title, upto)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        frames.append(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    frames += [frames[-1]] * 3  # a pause on the whole episode before it starts again
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:],
                                                duration=700, loop=0))
    return path


# --- the command ------------------------------------------------------------------------------

def inspect_episode(folder: Path, seed: int, index: int, out: Path | None, animate: bool = False,
                    train: bool = False, again: str | None = None) -> tuple[str, Path]:
    """``(text, path)`` of episode ``index`` of seed ``seed`` of a condition folder: read from
    ``seed<I>-episode<N>.npz`` if kept, else played by the seed trained again (``train``; without
    it, ``ResultsError`` gives the command, ``again``)."""
    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise ResultsError(f"{folder}: not a condition's folder (no config.json); choose one with --condition")
    n = population(folder)[0]
    if not 0 <= seed < n:
        raise ResultsError(f"seed: {seed} is out of range; {folder} has seeds 0..{n - 1}")
    out = Path(out) if out else folder / f"seed{seed}-episode{index}.{'gif' if animate else 'png'}"
    if out.suffix.lower() != (".gif" if animate else ".png"):
        raise ResultsError(f"out: {out} should end in {'.gif' if animate else '.png'} "
                           f"({'an animation' if animate else 'a picture'}; --animate draws a .gif)")
    kept, curves = folder / f"seed{seed}-episode{index}.npz", folder / f"seed{seed}.npz"
    if kept.exists():
        config, rec = read_config(folder / "config.json"), read_npz(kept)
    else:
        if not train:
            raise ResultsError(f"episode {index} of seed {seed} of {folder} is not on disk, and a run keeps no trained "
                               f"agent; train the seed again to play it (seed {seed} is the same alone as in any "
                               f"population) with: {again or '--train'}")
        config, _, _, _, state = retrain(folder, seed)
        rec = record(config, state, index)
        write_npz(kept, rec)
    name = f"{folder.parent.name}/{folder.name}" if folder.parent.name else folder.name
    label = f" ({OUTCOMES[int(read_npz(curves)['outcome'])]})" if curves.exists() else ""
    title = f"{name}, seed {seed}{label}, episode {index}: {config.env}, routing {config.routing}"
    path = draw(config, rec, title, out, animate)
    return f"{title}\n{summary_line(config, rec)}\n{table(config, rec)}", path
