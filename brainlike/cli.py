"""Command line: ``python -m brainlike run ...``; every config field is a flag."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from brainlike import config as cfg
from brainlike import envs

TOP_ALIASES = {"steps": "run.steps"}


def _parse_value(kind, text: str):
    if kind in (int, "int"):
        return int(text)
    if kind in (float, "float"):
        return float(text)
    if "tuple" in str(kind):
        return tuple(t.strip() for t in text.split(",") if t.strip())
    return text


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """A flag for every config field (``--reward.alpha``), environment knobs (``--env.b_prevalence``)
    included, plus ``--env``, ``--routing`` and ``--steps``."""
    base = cfg.Config()
    parser.add_argument("--env", help=f"environment: {', '.join(envs.REGISTRY)} (default {base.env})")
    parser.add_argument("--routing", help=f"routing preset ({', '.join(cfg.ROUTING_PRESETS)}) or table")
    parser.add_argument("--steps", type=int, help="RL environment steps per seed (run.steps)")
    for s in cfg.SECTIONS:
        for f in dataclasses.fields(getattr(base, s)):
            parser.add_argument(f"--{s}.{f.name}", dest=f"{s}.{f.name}", metavar=f.type.upper() if isinstance(f.type, str) else None,
                                help=f"{f.metadata['help']} (default {getattr(getattr(base, s), f.name)!r})")
    knobs = sorted({k for env in envs.REGISTRY.values() for k in env.params_bounds})
    for k in knobs:
        parser.add_argument(f"--env.{k}", dest=f"env.{k}", type=float, help="environment knob")


def config_from_args(args: argparse.Namespace) -> cfg.Config:
    """The config the flags describe; raises ``ConfigError`` naming a bad field."""
    values = {k: v for k, v in vars(args).items() if v is not None}
    dotted = {}
    for k in ("env", "routing"):
        if k in values:
            dotted[k] = values[k]
    if "steps" in values:
        dotted["run.steps"] = values["steps"]
    base = cfg.Config()
    types = {f"{s}.{f.name}": f.type for s in cfg.SECTIONS for f in dataclasses.fields(getattr(base, s))}
    for name, kind in types.items():
        if name in values:
            try:
                dotted[name] = _parse_value(kind, values[name])
            except ValueError:
                raise cfg.ConfigError(f"{name}: {values[name]!r} is not a valid {kind}") from None
    dotted |= {k: v for k, v in values.items() if k.startswith("env.")}
    # the environment first, so that its knobs are checked against the right one
    config = cfg.replace(base, **({"env": dotted.pop("env")} if "env" in dotted else {}))
    return cfg.replace(config, **dotted)


def cmd_run(args) -> int:
    from brainlike.run.runner import run_conditions
    from brainlike.store.results import ensure_writable, read_json

    config = config_from_args(args)
    if args.seeds < 1:
        raise cfg.ConfigError(f"seeds: {args.seeds} is out of range; allowed: >= 1")
    out = ensure_writable(args.out)
    start = time.perf_counter()
    try:  # a sweep of one condition, written into the output folder itself
        run_conditions({"": config}, args.seeds, args.seed, out=out, resume=args.resume)
    except KeyboardInterrupt:
        print(f"\nbrainlike: interrupted; continue with the same command and --resume ({out})", file=sys.stderr)
        return 130
    wall = time.perf_counter() - start
    summary = read_json(out / "summary.json")
    print(f"{summary['n_seeds']} seeds x {config.run.steps} steps of {config.env} under {config.routing} "
          f"in {wall:.1f}s -> {out}")
    _print_summary(summary)
    return 0


def _print_summary(summary: dict) -> None:
    from brainlike.schema import OUTCOMES

    m = summary["metrics"]
    for name in ("return", "deception_rate", "alarm_rate", "evasion_rate", "probe_recall_frozen",
                 "probe_auroc_frozen", "probe_auroc_refit"):
        lo, hi = m[name]["ci95"]
        print(f"  {name:<22} {m[name]['mean']:8.3f}  [{lo:.3f}, {hi:.3f}]" if lo is not None else f"  {name:<22} n/a")
    print("  outcomes: " + ", ".join(f"{k} {summary['outcomes'][k]}" for k in OUTCOMES if summary["outcomes"][k]))


def cmd_inspect(args) -> int:
    from brainlike.report.story import inspect

    text, path = inspect(args.results, args.condition, args.seed, args.out)
    print(text)
    print(f"plot: {path}")
    return 0


def cmd_sweep(args) -> int:
    from brainlike.schema import OUTCOMES
    from brainlike.store.results import ensure_writable, run_summary
    from brainlike.run.runner import describe, run_conditions
    from brainlike.run.grid import grid, parse_axis
    from brainlike.run.devices import use_cpu_devices

    use_cpu_devices(args.cpu_devices)  # before anything touches a device
    if args.distributed:  # every process then sees every host's devices
        import jax

        jax.distributed.initialize()

    base = config_from_args(args)
    if not args.grid and not args.zip:
        raise cfg.ConfigError("grid: no axes; give at least one --grid FIELD=V1,V2,...")
    axes, zipped = {}, {}
    for source, target in ((args.grid or [], axes), (args.zip or [], zipped)):
        for text in source:
            name, values = parse_axis(text)
            if name in axes or name in zipped:
                raise cfg.ConfigError(f"{name}: given twice; give each field once")
            target[name] = values
    conditions = grid(base, axes, zipped)
    if args.seeds < 1:
        raise cfg.ConfigError(f"seeds: {args.seeds} is out of range; allowed: >= 1")
    ensure_writable(args.out)
    print(describe(conditions, args.seeds), file=sys.stderr)
    start = time.perf_counter()
    try:
        results = run_conditions(conditions, args.seeds, args.seed, out=args.out, resume=args.resume,
                                 chunk_logs=args.chunk_logs, block_rows=args.block_rows)
    except KeyboardInterrupt:
        print(f"\nbrainlike: interrupted; continue with the same command and --resume ({args.out})", file=sys.stderr)
        return 130
    wall = time.perf_counter() - start
    print(f"{len(conditions)} conditions x {args.seeds} seeds in {wall:.1f}s -> {args.out}")
    width = max(len(n) for n in conditions)
    print(f"  {'condition':<{width}}  deception  evasion  recall_frozen  outcomes")
    for name, (logged, outcome) in results.items():
        m = run_summary(conditions[name], logged, outcome)
        value = lambda k: m["metrics"][k]["mean"]  # noqa: E731
        fmt = lambda x: "     n/a" if x is None else f"{x:8.3f}"  # noqa: E731
        counts = ", ".join(f"{k} {m['outcomes'][k]}" for k in OUTCOMES if m["outcomes"][k])
        print(f"  {name:<{width}}  {fmt(value('deception_rate'))}  {fmt(value('evasion_rate'))}"
              f"       {fmt(value('probe_recall_frozen'))}  {counts}")
    return 0


def cmd_bench(args) -> int:
    from brainlike.run.bench import main as bench

    return bench(args)


class _Parser(argparse.ArgumentParser):
    """Usage errors (an unknown flag, a missing value) as one line naming the argument."""

    def error(self, message):
        self.exit(2, f"brainlike: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="brainlike", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train a population of seeds and write config, metrics and summary")
    add_config_args(run)
    run.add_argument("--seeds", type=int, default=16, help="number of seeds (default 16)")
    run.add_argument("--seed", type=int, default=0, help="base seed: row i is fold_in(seed, i) (default 0)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--resume", action="store_true", help="continue the run already in --out")
    run.set_defaults(func=cmd_run)
    inspect = sub.add_parser("inspect", help="one seed's story over training, as a table and a plot")
    inspect.add_argument("results", help="a run folder, or an experiment's results folder with --condition")
    inspect.add_argument("--condition", help="condition folder inside RESULTS")
    inspect.add_argument("--seed", type=int, default=0, help="seed index (default 0)")
    inspect.add_argument("--out", help="where to write the plot (default RESULTS/CONDITION/seed<I>.png)")
    inspect.set_defaults(func=cmd_inspect)
    sweep = sub.add_parser("sweep", help="a grid of conditions x seeds, sharded over devices, checkpointed, resumable")
    add_config_args(sweep)
    sweep.add_argument("--grid", action="append", metavar="FIELD=V1,V2,...",
                       help="an axis of the grid (repeat for a product); items of a tuple field join by +")
    sweep.add_argument("--zip", action="append", metavar="FIELD=V1,V2,...",
                       help="axes that vary together, as one more axis of the grid (equal lengths)")
    sweep.add_argument("--seeds", type=int, default=16, help="seeds per condition (default 16)")
    sweep.add_argument("--seed", type=int, default=0, help="base seed: seed i is fold_in(seed, i) (default 0)")
    sweep.add_argument("--out", required=True, help="output folder: one folder per condition, and checkpoints")
    sweep.add_argument("--resume", action="store_true", help="continue the sweep already in --out")
    sweep.add_argument("--chunk-logs", type=int, help="logged points between checkpoints (default: a tenth)")
    sweep.add_argument("--block-rows", type=int, help="rows per device in one compiled call (default 128 on CPU)")
    sweep.add_argument("--cpu-devices", type=int, default=0,
                       help="JAX devices to split the host CPU into (default 0: one per core; 1: JAX's default)")
    sweep.add_argument("--distributed", action="store_true",
                       help="call jax.distributed.initialize() first, for one process per host (docs/scaling.md)")
    sweep.set_defaults(func=cmd_sweep)
    from brainlike.run.bench import add_bench_args

    bench = sub.add_parser("bench", help="env-steps per second at 1 to 4096 seeds, compile time and peak memory")
    add_bench_args(bench)
    bench.set_defaults(func=cmd_bench)
    return parser




def main(argv=None) -> int:
    from brainlike.store.results import ResultsError
    from brainlike.runtime import configure

    configure()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (cfg.ConfigError, ResultsError, ValueError) as e:
        print(f"brainlike: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
