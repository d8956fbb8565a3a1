"""The routing table: which loss may update which parameter group, and nothing else decides that
(no JAX here; ``core.routing.route`` applies a row of it).

Parameters live in two groups, ``{"beliefs": ..., "desires": ...}``. A table maps each loss
(``pred``, ``td``, ``probe``, ``pg``) to the groups it may update.
"""

from __future__ import annotations

GROUPS = ("beliefs", "desires")
LOSSES = ("pred", "td", "probe", "pg")

# ``policy_gradient`` is RL against a detector as a reward maximiser: REINFORCE (``losses.pg_term``)
# on whatever act escaped the alarm, the probe a black box. With ``desires.thought_noise`` 0 it is
# the LLM analogue: the act is a plan (as a token), the thought a fixed function of observation,
# plan and weights, and the beliefs move only as a side effect, through V(h(theta)). With sigma > 0
# the act is the sampled activation, and REINFORCE on its density is an evolution-strategies
# estimate of the gradient through the probe: activation-space RL. ``end_to_end`` regresses each
# thought's value by TD into the beliefs as well.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "brainlike": {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": ()},
    "end_to_end": {"pred": ("beliefs",), "td": ("beliefs", "desires"), "probe": (), "pg": ()},
    "through_probe": {"pred": ("beliefs",), "td": ("beliefs", "desires"), "probe": ("beliefs",), "pg": ()},
    "policy_gradient": {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": ("beliefs", "desires")},
}


def parse_routing(spec: str) -> dict[str, tuple[str, ...]]:
    """A preset name, or a table written ``pred=beliefs;td=beliefs+desires;probe=``."""
    if spec in PRESETS:
        return PRESETS[spec]
    if "=" not in spec:
        raise ValueError(f"routing: unknown preset {spec!r}; allowed: {', '.join(PRESETS)}, "
                         "or a table such as 'pred=beliefs;td=desires;probe=;pg='")
    table = {loss: () for loss in LOSSES}
    for row in filter(None, spec.split(";")):
        loss, _, groups = row.partition("=")
        loss = loss.strip()
        groups = tuple(g.strip() for g in groups.split("+") if g.strip())
        if loss not in LOSSES:
            raise ValueError(f"routing: unknown loss {loss!r}; allowed: {', '.join(LOSSES)}")
        bad = [g for g in groups if g not in GROUPS]
        if bad:
            raise ValueError(f"routing: unknown parameter group {bad[0]!r}; allowed: {', '.join(GROUPS)}")
        table[loss] = groups
    return table
