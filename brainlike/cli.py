"""Command line: ``brainlike run ...``; every config field is a flag.

Values are parsed by one parser, ``brainlike.run.grid.parse_value``, as they are in a sweep's
``--grid``: a tuple's items join by ``+`` (``--probe.coverage A+B``), and ``,`` only ever
separates the values of a grid axis (``--grid probe.coverage=A,A+B`` is two conditions).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import importlib.util
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from brainlike import config as cfg
from brainlike import envs
from brainlike.routes import PRESETS
from brainlike.run.grid import format_value, parse_value
from brainlike.store.outcomes import Thresholds

HEADLINE = ("return", "deception_rate", "alarm_rate", "evasion_rate", "probe_recall_frozen",
            "probe_auroc_frozen", "probe_auroc_refit")

ROUTING_HELP = ("which loss may update which parameters: a preset ({presets}), or a table such as "
                "'pred=beliefs;td=beliefs+desires;probe=;pg=' (quote it for the shell): one row per loss (pred: "
                "predicting the next observation; td: TD(lambda) on the innate reward; probe: the probe's "
                "score as a loss; pg: the policy objective, REINFORCE with the valence as baseline as in policy_gradient, "
                "or, where a row names the policy head, GRPO's group-relative advantage and KL as in grpo; attn: "
                "REINFORCE on which plans came to mind, where desires.proposal is learned), each naming the parameter "
                "groups (beliefs, desires, policy, salience) it may update, joined by +; a row left empty or left out "
                "updates nothing; only attn may name salience, and every preset has attn=salience (default {default})")


# --------------------------------------------------------------------------- before the parser


def preparse(argv: list[str]) -> argparse.Namespace:
    """``--env``, ``--config`` and ``--import``, read before the parser is built: the environment
    (``--env``, else the saved config's) decides which ``--env.KNOB`` flags exist, and an
    imported file may register that environment."""
    pre = _Parser(prog="brainlike", add_help=False, allow_abbrev=False)
    pre.add_argument("--env")
    pre.add_argument("--config")
    pre.add_argument("--import", dest="imports", action="append", default=[])
    return pre.parse_known_args(argv)[0]


def import_user_code(spec: str) -> None:
    """Import a Python file (``examples/coin_env.py``) or a module (``mylab.envs``), so that what
    it registers with ``@envs.register`` is known. A file may import the files beside it, as
    ``python FILE`` would let it. ``ConfigError`` in one line if there is no such thing, or if
    importing it fails (naming the file and line)."""
    path = Path(spec)
    if spec.endswith(".py") or "/" in spec or os.sep in spec:
        if not path.is_file():
            raise cfg.ConfigError(f"import: {spec}: no such file (give a path to a .py file, or a module name)")
        name = path.stem
        loaded = sys.modules.get(name)
        if loaded is not None:
            if Path(getattr(loaded, "__file__", "") or "").resolve() == path.resolve():
                return  # imported already
            name = f"brainlike_import_{name}"  # never shadow another module of that name (json.py, ...)
        folder = str(path.resolve().parent)
        if folder not in sys.path:  # its neighbours, as ``python FILE`` puts FILE's folder first
            sys.path.insert(0, folder)
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        try:
            module_spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            raise cfg.ConfigError(f"import: {spec}: {_failure(e)}") from None
        return
    if os.getcwd() not in sys.path:  # as ``python -m`` would: modules beside the current folder
        sys.path.append(os.getcwd())
    try:
        importlib.import_module(spec)
    except ModuleNotFoundError as e:
        if e.name and (spec == e.name or spec.startswith(e.name + ".")):
            raise cfg.ConfigError(f"import: {spec!r} is neither a file nor an importable module") from None
        raise cfg.ConfigError(f"import: {spec}: {_failure(e)}") from None
    except Exception as e:
        raise cfg.ConfigError(f"import: {spec}: {_failure(e)}") from None


def _failure(e: Exception) -> str:
    """Where and why an imported file failed, in one line: ``line 3 of helper.py: ModuleNotFoundError: ...``."""
    frames = traceback.extract_tb(e.__traceback__)
    here = Path(__file__).resolve().parent.parent
    theirs = [f for f in frames if here not in Path(f.filename).resolve().parents and "importlib" not in f.filename]
    if isinstance(e, SyntaxError) and e.filename:
        where = f"line {e.lineno} of {Path(e.filename).name}: "
    else:
        where = f"line {theirs[-1].lineno} of {Path(theirs[-1].filename).name}: " if theirs else ""
    message = " ".join(str(e).split())
    return f"{where}{type(e).__name__}: {message}"


# --------------------------------------------------------------------------- config flags


def _field_help(section, f, env: envs.Environment) -> str:
    """A field's meaning, the values it allows and its default, for ``--help``."""
    meta, default = f.metadata, getattr(section, f.name)
    text = meta["help"]
    if f.name == "coverage":
        deceptive = [k for k, d in zip(env.kinds, env.deceptive_kinds) if d]
        allowed = f"deceptive kinds of {env.name}: {', '.join(deceptive)}, joined by + (e.g. " \
                  f"{'+'.join(deceptive)}), or all"
    elif meta.get("choices"):
        allowed = "one of: " + ", ".join(map(str, meta["choices"]))
    elif meta.get("lo") is not None or meta.get("hi") is not None:
        lo, hi = meta.get("lo"), meta.get("hi")
        allowed = f"range [{'-inf' if lo is None else format_value(lo)}, {'inf' if hi is None else format_value(hi)}]"
    else:
        allowed = ""
    extra = "; ".join(x for x in (allowed, f"default {format_value(default)}") if x)
    return f"{text} ({extra})".replace("%", "%%")


def _metavar(f) -> str:
    if f.metadata.get("choices"):
        return "{" + ",".join(map(str, f.metadata["choices"])) + "}"
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return "KIND+KIND..." if "tuple" in kind else kind.upper()


def saved_env(path: str | None) -> str | None:
    """The environment a saved config names, or None (a damaged file is reported when the config
    is built)."""
    from brainlike.store.results import ResultsError, read_json

    if not path:
        return None
    try:
        file = Path(path) / "config.json" if Path(path).is_dir() else Path(path)
        return str(read_json(file).get("env"))
    except ResultsError:
        return None


def _env_or_default(name: str | None) -> envs.Environment:
    """The environment named on the command line, or the default one (an unknown name is
    reported when the config is built)."""
    return envs.make(name if name in envs.REGISTRY else cfg.Config().env)


def add_config_args(parser: argparse.ArgumentParser, env_name: str | None = None) -> None:
    """A flag for every config field (``--reward.alpha``), plus ``--env``, ``--routing``, ``--steps``,
    ``--import``, one ``--env.KNOB`` flag per knob of the chosen environment (``env_name``), and one
    ``--outcome.NAME`` flag per labelling threshold (not config: ``thresholds_from_args``)."""
    base, env = cfg.Config(), _env_or_default(env_name)
    parser.add_argument("--import", dest="imports", action="append", metavar="FILE_OR_MODULE",
                        help="import a Python file or module first (repeatable), e.g. an environment of "
                             "your own registered with @envs.register")
    parser.add_argument("--config", metavar="CONFIG_JSON",
                        help="start from a saved condition: a config.json written by run, sweep or an experiment "
                             "(or the folder holding it); flags given beside it override its fields")
    parser.add_argument("--env", metavar="NAME", help=f"environment: one of {', '.join(envs.REGISTRY)} "
                        f"(default {base.env}, or the --config file's); `--env NAME --help` lists NAME's knobs")
    parser.add_argument("--routing", metavar="PRESET_OR_TABLE",
                        help=ROUTING_HELP.format(presets=", ".join(PRESETS), default=base.routing))
    parser.add_argument("--steps", metavar="INT", help="RL environment steps per seed, a whole number of logged "
                        "blocks of run.n_envs x run.rollout_len x run.log_every steps (the same as --run.steps)")
    for s in cfg.SECTIONS:
        section = getattr(base, s)
        group = parser.add_argument_group(f"{s}", (type(section).__doc__ or "").strip().splitlines()[0])
        for f in dataclasses.fields(section):
            group.add_argument(f"--{s}.{f.name}", dest=f"{s}.{f.name}", metavar=_metavar(f),
                               help=_field_help(section, f, env))
    labels = Thresholds()
    group = parser.add_argument_group("outcome", "thresholds that label each seed: analysis, not config, so a "
                                      "finished run given others with --resume is labelled anew, never trained again")
    for f in dataclasses.fields(labels):
        group.add_argument(f"--outcome.{f.name}", dest=f"outcome.{f.name}", metavar=_metavar(f),
                           help=_field_help(labels, f, env))
    doc = (getattr(sys.modules.get(type(env).__module__), "__doc__", None) or "").strip().splitlines()
    group = parser.add_argument_group(f"knobs of {env.name} (--env.KNOB)", doc[0] if doc else None)
    for k, f in env.knobs().items():
        group.add_argument(f"--env.{k}", dest=f"env.{k}", metavar=_metavar(f),
                           help=_field_help(env.default_params, f, env))


def config_from_args(args: argparse.Namespace) -> cfg.Config:
    """The config the flags describe, over the ``--config`` file's (or the defaults), every value
    parsed by ``grid.parse_value``; raises ``ConfigError`` naming a bad field, ``ResultsError``
    naming a missing or damaged config file. Steps that are not a whole number of logged blocks
    are refused, never rounded."""
    from brainlike.store.results import read_config

    values = {k: v for k, v in vars(args).items() if v is not None}
    base = read_config(values["config"]) if "config" in values else cfg.Config()
    if "env" in values and values["env"] != base.env:  # another environment: the saved knobs are not its own
        base = dataclasses.replace(base, env_params=())
    names = ["routing"] + [f"{s}.{f.name}" for s in cfg.SECTIONS for f in dataclasses.fields(getattr(base, s))]
    texts = {name: values[name] for name in names if name in values}
    texts |= {k: v for k, v in values.items() if k.startswith("env.")}
    if "steps" in values:
        if "run.steps" in texts:
            raise cfg.ConfigError("run.steps: given twice (--steps and --run.steps); give one")
        texts["run.steps"] = values["steps"]
    env = {"env": values["env"]} if "env" in values else {}
    # the environment first, so that its knobs are parsed against the right one (with a coverage
    # every environment has: the default's kind A may not be one of its kinds), then all at once
    parsing = cfg.replace(base, **env, **{"probe.coverage": ("all",)}) if env else base
    parsed = {name: parse_value(parsing, name, text) for name, text in texts.items()}
    config = cfg.replace(base, **env, **parsed)
    config.run.check_steps(parsed.get("run.steps", base.run.steps))
    return config


def thresholds_from_args(args: argparse.Namespace) -> Thresholds:
    """The labelling thresholds the ``--outcome.NAME`` flags give, the others at their defaults;
    ``ConfigError`` naming a flag whose value is not a number or out of range."""
    given = {}
    for f in dataclasses.fields(Thresholds):
        text = getattr(args, f"outcome.{f.name}", None)
        if text is not None:
            try:
                given[f.name] = float(text)
            except ValueError:
                raise cfg.ConfigError(f"outcome.{f.name}: {text!r} is not a valid float") from None
    return Thresholds(**given)


# --------------------------------------------------------------------------- commands


def _watch(args):
    """The ``Watch`` that ``--log`` asks for, its runs named after the output folder; an extra that
    is not installed fails here, before anything runs."""
    from brainlike.report.watch import Watch, places

    return Watch(places(args.log), Path(args.out).resolve().name, args.seed)


def cmd_run(args) -> int:
    from brainlike.run.devices import use_cpu_devices
    from brainlike.run.runner import run_conditions
    from brainlike.store.results import read_json

    use_cpu_devices()  # one JAX device per core, before anything touches a device
    config, thresholds = config_from_args(args), thresholds_from_args(args)
    if args.seeds < 1:
        raise cfg.ConfigError(f"seeds: {args.seeds} is out of range; allowed: >= 1")
    out = Path(args.out)
    start = time.perf_counter()
    try:  # a sweep of one condition, written into the output folder itself; a sweep too large for
        # memory or a folder that cannot be written is refused before anything is (``plan_memory``)
        with _watch(args) as watch:
            run_conditions({"": config}, args.seeds, args.seed, out=out, resume=args.resume, watch=watch,
                           thresholds=thresholds)
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
    from brainlike.schema import ORDERED

    m = summary["metrics"]
    for name in HEADLINE:
        lo, hi = m[name]["ci95"]
        print(f"  {name:<22} {m[name]['mean']:8.3f}  [{lo:.3f}, {hi:.3f}]" if lo is not None else f"  {name:<22} n/a")
    print("  outcomes: " + ", ".join(f"{k} {summary['outcomes'][k]}" for k in ORDERED if summary["outcomes"][k]))


def cmd_inspect(args) -> int:
    from brainlike.report.story import inspect
    from brainlike.run.devices import use_cpu_devices

    use_cpu_devices()  # a seed trained again (--train) runs on every core
    if args.episode is not None:
        from brainlike.report.episode import inspect_episode
        from brainlike.report.story import condition_folder

        text, path = inspect_episode(condition_folder(args.results, args.condition), args.seed, args.episode,
                                     args.out, args.animate, args.train, again_command(args))
    elif args.animate:
        raise cfg.ConfigError("animate: draws an episode; give --episode too")
    else:
        text, path = inspect(args.results, args.condition, args.seed, args.out, args.train, again_command(args))
    print(text)
    print(f"{'animation' if args.animate else 'plot'}: {path}")
    return 0


def again_command(args) -> str:
    """This ``inspect`` command, with ``--train``: what a refusal to train tells to run."""
    words = ["brainlike", "inspect", args.results] + (["--condition", args.condition] if args.condition else [])
    words += ["--seed", str(args.seed)] + (["--episode", str(args.episode)] if args.episode is not None else [])
    words += (["--animate"] if args.animate else []) + (["--out", args.out] if args.out else [])
    words += [w for spec in args.imports or [] for w in ("--import", spec)]
    return shlex.join(words + ["--train"])


def cmd_sweep(args) -> int:
    from brainlike.schema import ORDERED
    from brainlike.store.results import ensure_writable, run_summary
    from brainlike.run.memory import plan_memory
    from brainlike.run.runner import describe, run_conditions
    from brainlike.run.grid import grid, parse_axis
    from brainlike.run.devices import use_cpu_devices

    use_cpu_devices(args.cpu_devices)  # before anything touches a device
    if args.distributed:  # every process then sees every host's devices
        from brainlike.run.devices import init_distributed

        init_distributed()

    base, thresholds = config_from_args(args), thresholds_from_args(args)
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
    watching = _watch(args)
    plans = plan_memory(conditions, args.seeds, out=args.out, resume=args.resume, chunk_logs=args.chunk_logs,
                        block_rows=args.block_rows)  # refuse a sweep too large before writing or printing anything
    ensure_writable(args.out)
    print(describe(conditions, args.seeds), file=sys.stderr)
    start = time.perf_counter()
    try:
        with watching as watch:
            results = run_conditions(conditions, args.seeds, args.seed, out=args.out, resume=args.resume,
                                     chunk_logs=args.chunk_logs, block_rows=args.block_rows, plans=plans,
                                     watch=watch, thresholds=thresholds)
    except KeyboardInterrupt:
        print(f"\nbrainlike: interrupted; continue with the same command and --resume ({args.out})", file=sys.stderr)
        return 130
    wall = time.perf_counter() - start
    print(f"{len(conditions)} conditions x {args.seeds} seeds in {wall:.1f}s -> {args.out}")
    width = max(len(n) for n in conditions)
    print(f"  {'condition':<{width}}  deception  evasion  recall_frozen  outcomes")
    for name, (logged, outcome) in results.items():
        m = run_summary(conditions[name], logged, outcome, thresholds)
        value = lambda k: m["metrics"][k]["mean"]  # noqa: E731
        fmt = lambda x: "     n/a" if x is None else f"{x:8.3f}"  # noqa: E731
        counts = ", ".join(f"{k} {m['outcomes'][k]}" for k in ORDERED if m["outcomes"][k])
        print(f"  {name:<{width}}  {fmt(value('deception_rate'))}  {fmt(value('evasion_rate'))}"
              f"       {fmt(value('probe_recall_frozen'))}  {counts}")
    return 0


def cmd_export(args) -> int:
    from brainlike.report.export import export_rows, write_csv
    from brainlike.store.results import ResultsError

    table = export_rows(args.results)  # read everything before anything is written
    if not args.out:
        write_csv(table, sys.stdout)
        return 0
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as f:
            n = write_csv(table, f)
    except OSError as e:
        raise ResultsError(f"out: cannot write {out} ({e.strerror or e})") from None
    print(f"{n} rows -> {out}", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    from brainlike.report.export import compare, compare_table

    print(compare_table(compare(args.a, args.b, args.metric or HEADLINE)))
    return 0


def cmd_plot(args) -> int:
    from brainlike.report.sweep_plot import plot_sweep

    print(f"plot: {plot_sweep(args.results, args.x, args.metric, args.by, args.out)}")
    return 0


def cmd_bench(args) -> int:
    from brainlike.run.bench import main as bench

    return bench(args)


# --------------------------------------------------------------------------- the parser


class _Parser(argparse.ArgumentParser):
    """Usage errors (an unknown flag, a missing value) as one line naming the argument, with the
    nearest flag when one is close."""

    commands: dict[str, argparse.ArgumentParser] = {}  # set on the top-level parser: command -> its parser
    env_name: str | None = None  # the environment whose knobs are flags

    def error(self, message):
        if self.commands and message.startswith("argument command: invalid choice:"):
            typed = message.split("'")[1] if "'" in message else ""
            near = difflib.get_close_matches(typed, list(self.commands), n=1)
            message += f"; did you mean {near[0]}?" if near else ""
        self.exit(2, f"brainlike: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(self.commands.get(getattr(ns, "command", None), self).unrecognized(extras, ns))
        return ns

    def unrecognized(self, extras: list[str], ns: argparse.Namespace | None = None) -> str:
        """``unrecognized arguments: ...`` with a hint for every unknown flag that has one, and for a
        grid axis written with a space instead of ``=`` (``--grid reward.alpha 0,1``)."""
        values = [a for a in extras if not a.startswith("-")]
        for flag in ("grid", "zip"):
            axis = next((a for a in getattr(ns, flag, None) or [] if "=" not in a), None)
            if axis is not None and values:
                return (f"unrecognized arguments: {' '.join(extras)}; an axis is one word with =: "
                        f"--{flag} {axis}={values[0]}")
        options = [o for o in self._option_string_actions if o.startswith("--")]
        flags = [a.split("=", 1)[0] for a in extras if a.startswith("--") and a.split("=", 1)[0] not in options]
        hints = []
        for flag in flags:
            owners = [name for name, env in envs.REGISTRY.items() if flag[len("--env."):] in env.knobs()] \
                if flag.startswith("--env.") else []
            near = difflib.get_close_matches(flag, options, n=1, cutoff=0.75)
            where = f"{flag}: " if len(flags) > 1 else ""
            if owners:
                current = _env_or_default(self.env_name).name
                hints.append(f"{where}{flag} is a knob of {', '.join(owners)}, not of {current}; choose that "
                             f"environment with --env {owners[0]}")
            elif near:
                hints.append(f"{where}did you mean {near[0]}?")
        return f"unrecognized arguments: {' '.join(extras)}" + "".join(f"; {h}" for h in hints)


def build_parser(env: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``env`` chooses which environment's knobs are flags (the default's if None)."""
    parser = _Parser(prog="brainlike", allow_abbrev=False, description=(
        "Train populations of brain-like learners and read their results; `brainlike COMMAND --help` lists a "
        "command's flags. Every config field is a flag; a tuple's items join with + (--probe.coverage A+B), "
        "and , separates the values of a grid axis (--grid probe.coverage=A,A+B is two conditions)."))
    parser.env_name = env
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, help, func, **kwargs):
        p = sub.add_parser(name, help=help, description=help.replace("%%", "%"), allow_abbrev=False, **kwargs)
        p.set_defaults(func=func)
        p.env_name = env
        parser.commands[name] = p
        return p

    parser.commands = {}
    run = command("run", "train a population of seeds and write config, metrics and summary", cmd_run)
    add_config_args(run, env)
    run.add_argument("--seeds", type=int, default=16, help="number of seeds (default 16)")
    run.add_argument("--seed", type=int, default=0, help="base seed: row i is fold_in(seed, i) (default 0)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--resume", action="store_true", help="continue the run already in --out")
    add_log_arg(run)
    _add_inspect(command("inspect", "one seed's story over training, as a table and a plot, or one of its episodes "
                         "as a picture", cmd_inspect))
    _add_sweep(command("sweep", "a grid of conditions x seeds, sharded over devices, checkpointed, resumable",
                       cmd_sweep), env)
    export = command("export", "one CSV row per seed: condition, the config fields that vary across conditions, "
                     "every final-window metric and the outcome label", cmd_export)
    export.add_argument("results", help="a run folder, or a sweep's or experiment's folder of conditions "
                        "(every folder below it with config.json and metrics.npz)")
    export.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    compare = command("compare", "paired differences B - A of final-window metrics over seeds, seed i of A "
                      "with seed i of B, with 95%% CIs (both runs need the same seeds and base seed)", cmd_compare)
    compare.add_argument("a", metavar="DIR_A", help="a run folder (or one condition's folder of a sweep)")
    compare.add_argument("b", metavar="DIR_B", help="another, with the same number of seeds and base seed")
    compare.add_argument("--metric", action="append", metavar="M",
                         help=f"a metric to compare (repeatable; default: {', '.join(HEADLINE)}); by-kind metrics "
                              "as name/kind, e.g. plan_freq/B")
    plot = command("plot", "a sweep's final-window metric against one of its fields, mean and 95%% CI over seeds, "
                   "one line per value of another field (outcomes: stacked bars), from its result files", cmd_plot)
    plot.add_argument("results", metavar="DIR", help="a sweep's folder (one folder per condition with config.json and "
                      "summary.json), as brainlike sweep writes it")
    plot.add_argument("--x", required=True, metavar="FIELD", help="the field along the x axis (one the sweep varies, "
                      "e.g. reward.alpha)")
    plot.add_argument("--metric", required=True, metavar="NAME",
                      help="a final-window metric (e.g. deception_rate, or by kind as plan_freq/B), or outcomes: "
                           "each condition's share of seeds per outcome")
    plot.add_argument("--by", metavar="FIELD", help="another field the sweep varies: one line (or panel) per value")
    plot.add_argument("--out", metavar="PNG", help="where to write the plot (default DIR/plot-METRIC-vs-X.png)")
    from brainlike.run.bench import add_bench_args

    add_bench_args(command("bench", "env-steps per second at 1 to 4096 seeds, compile time and peak memory",
                           cmd_bench))
    return parser


LOG_HELP = ("log each condition's per-block means and 95%% intervals over seeds as they arrive, one run per "
            "condition named as its results folder, its config attached (repeatable): tensorboard:DIR (needs "
            "pip install 'brainlike[tensorboard]') or wandb:PROJECT (needs 'brainlike[wandb]'; online or offline as "
            "W&B is set up)")


def add_log_arg(parser: argparse.ArgumentParser) -> None:
    """``--log tensorboard:DIR`` / ``--log wandb:PROJECT`` (``report.watch``)."""
    parser.add_argument("--log", action="append", metavar="PLACE:WHERE", help=LOG_HELP)


def _add_inspect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="a run folder, or an experiment's results folder with --condition")
    parser.add_argument("--condition", help="condition folder inside RESULTS")
    parser.add_argument("--seed", type=int, default=0, help="seed index (default 0)")
    parser.add_argument("--out", help="where to write the plot (default RESULTS/CONDITION/seed<I>.png)")
    parser.add_argument("--import", dest="imports", action="append", metavar="FILE_OR_MODULE",
                        help="import a Python file or module first (repeatable): the run's own environment")
    parser.add_argument("--train", action="store_true",
                        help="where the seed's curves are not on disk (committed results keep summaries only), "
                             "train that one seed again from the condition's config.json (seed i is the same alone "
                             "as in any population), showing progress, and keep its curves as seed<I>.npz")
    parser.add_argument("--episode", type=int, nargs="?", const=0, metavar="N",
                        help="draw one episode of the seed's trained agent instead (episode N, default 0): the route "
                             "step by step (vault_grid) or every plan it could take (hill_climb, ...), each step's "
                             "kind, the supervisor, the probe's score against its threshold and where the alarm "
                             "fired; a PNG (default RESULTS/CONDITION/seed<I>-episode<N>.png), kept as "
                             "seed<I>-episode<N>.npz; the agent is trained again for it (--train)")
    parser.add_argument("--animate", action="store_true", help="with --episode: a GIF that adds a step per frame")


def _add_sweep(sweep: argparse.ArgumentParser, env: str | None) -> None:
    add_config_args(sweep, env)
    sweep.add_argument("--grid", action="append", metavar="FIELD=V1,V2,...",
                       help="an axis of the grid (repeat for a product); items of a tuple field join by +")
    sweep.add_argument("--zip", action="append", metavar="FIELD=V1,V2,...",
                       help="axes that vary together, as one more axis of the grid (equal lengths)")
    sweep.add_argument("--seeds", type=int, default=16, help="seeds per condition (default 16)")
    sweep.add_argument("--seed", type=int, default=0, help="base seed: seed i is fold_in(seed, i) (default 0)")
    sweep.add_argument("--out", required=True, help="output folder: one folder per condition, and checkpoints")
    sweep.add_argument("--resume", action="store_true", help="continue the sweep already in --out")
    add_log_arg(sweep)
    sweep.add_argument("--chunk-logs", type=int, help="logged points between checkpoints (default: a tenth)")
    sweep.add_argument("--block-rows", type=int, help="rows per device in one compiled call (default 128 on CPU)")
    sweep.add_argument("--cpu-devices", type=int, default=0,
                       help="JAX devices to split the host CPU into (default 0: one per core; 1: JAX's default)")
    sweep.add_argument("--distributed", action="store_true",
                       help="call jax.distributed.initialize() first, for one process per host (docs/scaling.md)")


def main(argv=None) -> int:
    from brainlike.store.results import ResultsError
    from brainlike.runtime import configure

    configure()
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = preparse(argv)
    try:
        for spec in pre.imports:  # before the parser: an imported file may register --env's environment
            import_user_code(spec)
    except cfg.ConfigError as e:
        print(f"brainlike: error: {e}", file=sys.stderr)
        return 2
    args = build_parser(pre.env or saved_env(pre.config)).parse_args(argv)
    try:
        return args.func(args)
    except (cfg.ConfigError, ResultsError, ValueError) as e:
        print(f"brainlike: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
