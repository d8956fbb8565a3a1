"""The routing table: which loss may update which parameter group, and nothing else decides that
(no JAX here; ``core.routing.route`` applies a row of it).

Parameters live in groups, ``{"beliefs": ..., "desires": ...}``, ``"policy"`` (a policy head of
its own) for a learner whose table names it, and ``"salience"`` (which plans come to mind,
``core.attention``) for a learner whose attention is learned (``desires.proposal learned``). A
table maps each loss (``pred``, ``td``, ``probe``, ``pg``: the policy objective, its KL anchor
included; ``attn``: REINFORCE on which plans came to mind) to the groups it may update. The
salience reads the observation, not the thought, so only the ``attn`` row may name it, and that
row nothing else: every preset routes ``attn`` to the salience, which no other loss reaches.
"""

from __future__ import annotations

GROUPS = ("beliefs", "desires", "policy", "salience")
LOSSES = ("pred", "td", "probe", "pg", "attn")

# ``grpo`` is the LLM analogue, RL against a detector as SOLiD and the Obfuscation Atlas run it: a
# policy head of its own (``core.policy``: logits read from the thought, as an LLM's unembedding
# reads its last activations) picks the plan, trained only by the policy objective with GRPO's
# group-relative advantage and an exact KL to the policy RL started from; the probe is a black box,
# and the beliefs move only as the shared network's side effect, along the policy's own directions.
# Its valence is learned by TD for logging only: it does not choose, and its TD reaches no belief.
# ``policy_gradient`` is REINFORCE through the valence: it acts by Boltzmann over its critic's
# valences, with ``G - V(h_taken)`` (an action value, so a biased baseline) as advantage; a bridge
# between ``end_to_end`` and ``grpo``. With ``desires.thought_noise`` sigma > 0 the act is the
# sampled activation, and REINFORCE on its density is an evolution-strategies estimate of the
# gradient through the probe: activation-space RL. ``end_to_end`` regresses each thought's value by
# TD into the beliefs as well.
ATTN = {"attn": ("salience",)}  # where attention is learned; without it the row reaches no parameter
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "brainlike": {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": ()} | ATTN,
    "end_to_end": {"pred": ("beliefs",), "td": ("beliefs", "desires"), "probe": (), "pg": ()} | ATTN,
    "through_probe": {"pred": ("beliefs",), "td": ("beliefs", "desires"), "probe": ("beliefs",), "pg": ()} | ATTN,
    "policy_gradient": {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": ("beliefs", "desires")} | ATTN,
    "grpo": {"pred": ("beliefs",), "td": ("desires",), "probe": (), "pg": ("beliefs", "policy")} | ATTN,
}


def has_policy_head(table: dict[str, tuple[str, ...]]) -> bool:
    """Does a policy head of its own act? Where some row of the table names it; else the valence acts."""
    return any("policy" in groups for groups in table.values())


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
        if any((g == "salience") != (loss == "attn") for g in groups):
            raise ValueError(f"routing: {loss}={'+'.join(groups)}: the salience reads the observation, not the "
                             "thought, so only attn may reach it and attn nothing else; allowed: attn=salience")
        table[loss] = groups
    return table
