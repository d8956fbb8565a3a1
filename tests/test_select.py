"""Conditions selected by their knobs (``report.experiment.select``) instead of by their names, and the
pooled paired difference built on it."""

import json

import numpy as np
import pytest

from brainlike.config import Config, replace, to_dict
from brainlike.report.experiment import Conditions, MissingCondition, Result, pooled_difference, select
from brainlike.run.grid import grid

BLOCKS = {  # summary blocks, their configs cut to the knobs read here
    "a": {"config": {"routing": "brainlike", "reward": {"alpha": 1.0}, "probe": {"coverage": ["A"]},
                     "env_params": {"b_prevalence": 0.0}}},
    "b": {"config": {"routing": "end_to_end", "reward": {"alpha": 3.0}, "probe": {"coverage": ["A", "B"]},
                     "env_params": {"b_prevalence": 0.5}}},
    "c": {"config": {"routing": "brainlike", "reward": {"alpha": 3.0}, "probe": {"coverage": ["A"]},
                     "env_params": {"b_prevalence": 0.5}}},
}


def test_select_matches_every_knob_given_and_keeps_the_order():
    assert list(select(BLOCKS, routing="brainlike")) == ["a", "c"]
    assert list(select(BLOCKS, routing="brainlike", **{"reward.alpha": 3.0})) == ["c"]
    assert list(select(BLOCKS, **{"env.b_prevalence": 0.5})) == ["b", "c"]
    assert list(select(BLOCKS, **{"probe.coverage": ("A",)})) == ["a", "c"]  # a tuple against its stored list
    assert list(select(BLOCKS, **{"reward.alpha": 2.0})) == []
    assert select(BLOCKS) == BLOCKS
    assert select(BLOCKS, routing="end_to_end")["b"] is BLOCKS["b"]


def test_a_function_as_the_value_is_a_test_of_the_knob():
    assert list(select(BLOCKS, **{"env.b_prevalence": lambda p: p > 0}, routing=lambda r: r != "brainlike")) == ["b"]


def test_an_unknown_knob_is_named_not_matched():
    with pytest.raises(KeyError, match="reward.alfa"):
        select(BLOCKS, **{"reward.alfa": 1.0})


def test_configs_and_results_select_as_their_stored_blocks():
    conditions = grid(Config(), {"routing": ["brainlike", "end_to_end"], "reward.alpha": [0.0, 3.0],
                                 "probe.coverage": [("A",), ("A", "B")]})
    stored = {n: {"config": json.loads(json.dumps(to_dict(c)))} for n, c in conditions.items()}
    results = {n: Result(c, {}, np.zeros(0, int)) for n, c in conditions.items()}
    knobs = {"routing": "end_to_end", "reward.alpha": 3.0, "probe.coverage": ("A",)}
    assert list(select(conditions, **knobs)) == list(select(stored, **knobs)) == list(select(results, **knobs)) == [
        "routing=end_to_end,reward.alpha=3,probe.coverage=A"]


def _result(config, evasion) -> Result:
    """Three seeds whose evasion rate is ``evasion[i]`` at every logged point."""
    return Result(config, {"evasion_rate": np.repeat(np.asarray(evasion, float)[:, None], 10, axis=1)},
                  np.zeros(3, int))


def test_pooled_difference_pairs_each_cell_with_the_one_differing_only_in_the_other_knobs():
    base = Config()
    cell = lambda r, p: replace(base, routing=r, **{"env.b_prevalence": p})  # noqa: E731
    # listed in another order for each routing: cells pair by their configs, not by their places
    results = Conditions({
        "e2e-0": _result(cell("end_to_end", 0.0), [9, 9, 9]),
        "e2e-0.5": _result(cell("end_to_end", 0.5), [0.5, 0.6, 0.7]),
        "e2e-1": _result(cell("end_to_end", 1.0), [0.9, 0.9, 0.9]),
        "bl-1": _result(cell("brainlike", 1.0), [0.1, 0.2, 0.3]),
        "bl-0.5": _result(cell("brainlike", 0.5), [0.5, 0.5, 0.5]),
        "bl-0": _result(cell("brainlike", 0.0), [0, 0, 0]),
    })
    stat = pooled_difference("evasion_rate", {"routing": "end_to_end"}, {"routing": "brainlike"},
                             **{"env.b_prevalence": lambda p: p > 0})
    # per seed: the mean of (0.8, 0.7, 0.6) at prevalence 1 and (0, 0.1, 0.2) at 0.5 -> 0.4 each
    out = stat(results)
    assert out["mean"] == pytest.approx(0.4) and out["ci95"] == pytest.approx([0.4, 0.4])
    del results["bl-0.5"]
    with pytest.raises(MissingCondition):
        stat(results)
    with pytest.raises(MissingCondition):  # nothing selected: a grid without those conditions
        pooled_difference("evasion_rate", {"routing": "grpo"}, {"routing": "brainlike"})(results)
