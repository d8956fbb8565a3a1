"""Curves where researchers watch them: TensorBoard or Weights & Biases, as a sweep trains.

``--log tensorboard:DIR`` or ``--log wandb:PROJECT`` (repeatable) on ``brainlike run``,
``brainlike sweep`` and ``python -m experiments``: one logged run per condition, named as its
results folder (``<folder>/<condition>``; a run's own folder name), its config attached (W&B: the
run's config; TensorBoard: hparams and a ``config`` text), and at each logged block every
metric's mean and 95% interval over seeds (``stats.band``, as the learning curves draw them;
seeds that have diverged so far left out), logged as each chunk of blocks arrives. Both are
optional extras, imported only when asked for: without one, the flag fails at once, in one
line saying what to install.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from brainlike import config as cfg
from brainlike.config import Config, ConfigError
from brainlike.schema import BY_KIND, SCALARS
from brainlike.store.results import logged_steps
from brainlike.store.stats import band

PLACES = {"tensorboard": "DIR", "wandb": "PROJECT"}
SHOWN = tuple(m for m in SCALARS if m != "nonfinite")  # with every BY_KIND metric, per kind


def parse(spec: str) -> tuple[str, str]:
    """``tensorboard:DIR`` -> ``("tensorboard", "DIR")``; ``ConfigError`` naming what is allowed."""
    kind, _, target = spec.partition(":")
    if kind not in PLACES or not target:
        allowed = ", ".join(f"{k}:{v}" for k, v in PLACES.items())
        raise ConfigError(f"log: {spec!r} is not a place to log to; allowed: {allowed}")
    return kind, target


def missing(kind: str, target: str) -> ConfigError:
    """The one line that says which extra to install."""
    return ConfigError(f"log: {kind}:{target} needs the {kind} package, which is not installed; install it with "
                       f"pip install 'brainlike[{kind}]' (in a clone: pip install -e '.[{kind}]')")


def points(config: Config, logged: dict, start: int) -> list[tuple[int, dict[str, float]]]:
    """Each logged point from ``start`` on: ``(RL env steps per seed, {tag: value})``, the tags
    ``METRIC/mean``, ``METRIC/ci95_lo`` and ``METRIC/ci95_hi`` (by kind: ``plan_freq/B/mean``) over
    the seeds that have not diverged so far, and ``seeds``, how many; a metric with no value there
    (no seed has one) is left out."""
    healthy = ~(np.asarray(logged["nonfinite"]) > 0).any(axis=1)
    stop = np.asarray(logged["return"]).shape[1]
    series = {m: np.asarray(logged[m])[healthy, start:stop] for m in SHOWN if m in logged}
    kinds = config.env_spec.kinds
    series |= {f"{m}/{kind}": np.asarray(logged[m])[healthy, start:stop, j]
               for m in BY_KIND if m in logged for j, kind in enumerate(kinds)}
    bands = {m: band(x) for m, x in series.items()}
    out = []
    for i, step in enumerate(logged_steps(config)[start:stop]):
        values = {"seeds": float(healthy.sum())}
        for m, (mean, lo, hi) in bands.items():
            if np.isfinite(mean[i]):
                values |= {f"{m}/mean": float(mean[i]), f"{m}/ci95_lo": float(lo[i]), f"{m}/ci95_hi": float(hi[i])}
        out.append((int(step), values))
    return out


def flat(d: dict, prefix: str = "") -> dict:
    """A stored config as ``{dotted field: number, bool or text}`` (a tuple's items joined by ``+``,
    environment knobs as ``env.KNOB``)."""
    out = {}
    for k, v in d.items():
        key = prefix + ("env" if k == "env_params" else k)
        if isinstance(v, dict):
            out |= flat(v, key + ".")
        elif isinstance(v, (list, tuple)):
            out[key] = "+".join(map(str, v))
        else:
            out[key] = "none" if v is None else v
    return out


class Watch:
    """``watch(name, config, logged, start)``, what ``run_conditions`` calls after every chunk: the
    condition's points from ``start`` on, to every place (``places``). ``folder``: the results
    folder's name, which names the logged runs (``folder/condition``); ``seed``: the base seed, in
    their config. Closing it (``with``) closes every run it opened."""

    def __init__(self, places: list, folder: str | None = None, seed: int = 0):
        self.places, self.folder, self.seed, self.opened = places, folder, seed, set()

    def run_name(self, condition: str) -> str:
        return "/".join(p for p in (self.folder, condition) if p) or "run"

    def __call__(self, name: str, config: Config, logged: dict, start: int) -> None:
        if not self.places:
            return
        run = self.run_name(name)
        if run not in self.opened:
            meta = {"condition": run, "n_seeds": int(np.asarray(logged["return"]).shape[0]), "seed": self.seed}
            for place in self.places:
                place.open(run, self.folder, meta | cfg.to_dict(config))
            self.opened.add(run)
        for step, values in points(config, logged, start):
            for place in self.places:
                place.log(run, step, values)

    def close(self) -> None:
        for place in self.places:
            place.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def places(specs: list[str] | None) -> list:
    """The places ``--log`` specs name, each one's package imported now, so that a missing one fails
    before anything runs."""
    makers = {"tensorboard": TensorBoard, "wandb": WandB}
    return [makers[kind](target) for kind, target in map(parse, specs or [])]


class TensorBoard:
    """Event files under ``DIR/<run>``, written with TensorBoard's own writer (no TensorFlow): the
    scalars, the config as hparams and as text, and a layout that draws each metric's mean in its
    interval (the Custom Scalars dashboard)."""

    def __init__(self, logdir: str):
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
            from tensorboard.plugins.custom_scalar import layout_pb2
            from tensorboard.plugins.custom_scalar import metadata as custom
            from tensorboard.plugins.hparams import summary_v2 as hparams
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            raise missing("tensorboard", logdir) from None
        self.logdir, self.writers = Path(logdir), {}
        self.Event, self.Summary, self.Writer, self.hparams = event_pb2.Event, summary_pb2.Summary, EventFileWriter, hparams
        self.Meta, self.Tensor, self.STRING = summary_pb2.SummaryMetadata, tensor_pb2.TensorProto, types_pb2.DT_STRING
        self.layout, self.custom = layout_pb2, custom

    def _text(self, tag: str, plugin: str, data: bytes):
        meta = self.Meta(plugin_data=self.Meta.PluginData(plugin_name=plugin))
        return self.Summary(value=[self.Summary.Value(tag=tag, metadata=meta,
                                                      tensor=self.Tensor(dtype=self.STRING, string_val=[data]))])

    def _margins(self) -> bytes:
        """Each scalar's mean within its interval, one chart per metric (every run on it)."""
        L = self.layout
        charts = [L.Chart(title=m, margin=L.MarginChartContent(series=[L.MarginChartContent.Series(
            value=f"{m}/mean", lower=f"{m}/ci95_lo", upper=f"{m}/ci95_hi")])) for m in SHOWN]
        return L.Layout(category=[L.Category(title="mean and 95% interval over seeds", chart=charts)]).SerializeToString()

    def open(self, run: str, group: str | None, config: dict) -> None:
        writer = self.writers[run] = self.Writer(str(self.logdir / run))
        now = time.time()
        params = {k: v for k, v in flat(config).items() if isinstance(v, (bool, int, float, str))}
        writer.add_event(self.Event(wall_time=now, step=0, summary=self.hparams.hparams_pb(params, trial_id=run)))
        text = "```\n" + json.dumps(config, indent=1) + "\n```"
        writer.add_event(self.Event(wall_time=now, step=0, summary=self._text("config", "text", text.encode())))
        writer.add_event(self.Event(wall_time=now, step=0, summary=self._text(
            self.custom.CONFIG_SUMMARY_TAG, self.custom.PLUGIN_NAME, self._margins())))

    def log(self, run: str, step: int, values: dict) -> None:
        summary = self.Summary(value=[self.Summary.Value(tag=k, simple_value=v) for k, v in values.items()])
        self.writers[run].add_event(self.Event(wall_time=time.time(), step=step, summary=summary))
        self.writers[run].flush()  # on disk now: TensorBoard shows each chunk as it arrives

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


class WandB:
    """A W&B run per condition in ``PROJECT`` (grouped by the results folder), its config the
    condition's; online or offline as W&B itself is set up (``wandb login``, ``WANDB_MODE``)."""

    def __init__(self, project: str):
        try:
            import wandb
        except ImportError:
            raise missing("wandb", project) from None
        self.wandb, self.project, self.runs = wandb, project, {}

    def open(self, run: str, group: str | None, config: dict) -> None:
        self.runs[run] = self.wandb.init(project=self.project, name=run, group=group, config=config,
                                         reinit="create_new", settings=self.wandb.Settings(console="off"))

    def log(self, run: str, step: int, values: dict) -> None:
        self.runs[run].log(values, step=step)

    def close(self) -> None:
        for run in self.runs.values():
            run.finish()
        self.runs.clear()
