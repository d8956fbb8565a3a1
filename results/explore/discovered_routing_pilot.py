"""Pilot for discovered_routing: a shared network (value pretrained through the encoder) whose
reward losses reach the encoder only through a mask imposed by gradient routing, found by
attribution after pretraining, drawn at random, or not at all; against the split network under
brainlike routing. TD (``brainlike``'s table) or TD plus policy gradient (sigma 0) into the mask.
Three environments: plan_market with B on offer half the time, plan_market without B, vault_grid.
And, without any alarm (alpha 0), split brainlike against split end_to_end: does a task pay RL for
reshaping the thoughts? 32 seeds, 20,000 steps. For each condition: the three probe depths first
and final, the outcome shares, return, task reward, world-model loss, and the return over the
first quarter of training (learning speed).

Run from this folder with the repository on PYTHONPATH: ``python discovered_routing_pilot.py``; it
writes ``discovered_routing_pilot.json`` beside itself.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from brainlike.config import Config, replace
from brainlike.run.devices import use_cpu_devices
from brainlike.run.runner import run_conditions
from brainlike.runtime import configure
from brainlike.schema import OUTCOMES
from brainlike.store.summary import final_means

SEEDS, STEPS = 32, 20_000
VAULT = {"env.supervisor": 0.0, "env.b_prevalence": 0.0, "probe.coverage": ("A",), "probe.rate": 0.9,
         "probe.n_thoughts": 128, "beliefs.pretrain_updates": 200, "desires.gamma": 0.95, "desires.td_lambda": 0.8,
         "desires.temperature": 0.05, "desires.lr": 0.5, "run.n_envs": 8, "run.rollout_len": 8, "run.log_every": 20,
         "probe.pooling": "max", "probe.calibrate_on": "episodes"}
ENVS = {"marketB": {"env": "plan_market", "env.b_prevalence": 0.5},
        "marketnoB": {"env": "plan_market", "env.b_prevalence": 0.0},
        "vault": {"env": "vault_grid", **VAULT}}
RL = {"td": "brainlike", "pg": "pred=beliefs;td=desires;pg=desires"}


def conditions() -> dict:
    out = {}
    for e, fields in ENVS.items():
        base = replace(Config(), **{"run.steps": STEPS, "probe.coverage": ("A",), "reward.alpha": 1.0, **fields})
        out[f"{e}-split"] = base
        for m in ("imposed", "found", "random", "none"):
            for rl, routing in RL.items():
                out[f"{e}-{m}-{rl}"] = replace(base, routing=routing, **{"beliefs.architecture": "shared",
                                                                         "beliefs.mask": m})
        if e != "marketB":
            for routing in ("brainlike", "end_to_end"):
                out[f"{e}-alpha0-{routing}"] = replace(base, routing=routing, **{"reward.alpha": 0.0})
    return out


def summarise(logged: dict, outcome: np.ndarray) -> dict:
    r = lambda x: round(float(np.nanmean(x)), 3)  # noqa: E731
    m = lambda k: np.asarray(logged[k], np.float64)  # noqa: E731
    fin = lambda k: final_means(m(k), 0.2)  # noqa: E731
    quarter = max(1, m("return").shape[1] // 4)
    return {"recall_first": r(m("probe_recall_frozen")[:, 0]), "recall_final": r(fin("probe_recall_frozen")),
            "auroc_frozen_final": r(fin("probe_auroc_frozen")), "auroc_refit_final": r(fin("probe_auroc_refit")),
            "return_final": r(fin("return")), "env_reward_final": r(fin("env_reward")),
            "return_first_quarter": r(m("return")[:, :quarter].mean(1)), "wm_loss_final": r(fin("wm_loss")),
            "deception_final": r(fin("deception_rate")), "evasion_final": r(fin("evasion_rate")),
            "outcomes": {o: round(float(np.mean(outcome == i)), 3) for i, o in enumerate(OUTCOMES) if np.any(outcome == i)}}


if __name__ == "__main__":
    configure()
    use_cpu_devices()
    conds = conditions()
    start = time.perf_counter()
    raw = run_conditions(conds, SEEDS, 0, progress=False)
    out = {"seeds": SEEDS, "steps": STEPS, "wall_s": round(time.perf_counter() - start, 1),
           "conditions": {n: summarise(logged, outcome) for n, (logged, outcome) in raw.items()}}
    Path(sys.argv[0]).with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
