"""The routing table (``brainlike.routes``) applied: each loss sees the parameters with the
gradient stopped at every group its row does not name.

``route(params, groups)`` returns the parameters with ``jax.lax.stop_gradient`` on every group
outside ``groups``; each loss is computed on its own routed view, so one backward pass of the
summed loss gives each group exactly the gradients its table row allows.

A shared network (``core.masks``) has a mask over the beliefs' parameters: a row that names the
desires but not the beliefs then also reaches the beliefs' parameters inside the mask.
"""

from __future__ import annotations

import jax

from brainlike.core.masks import pass_where


def route(params: dict, groups: tuple[str, ...], mask: dict | None = None) -> dict:
    """``params`` with the gradient stopped at every group not in ``groups``, and, where ``mask``
    (shaped like the beliefs) is given and only the desires are named, at the beliefs outside it."""
    routed = {g: p if g in groups else jax.lax.stop_gradient(p) for g, p in params.items()}
    if mask is not None and "desires" in groups and "beliefs" not in groups:
        routed["beliefs"] = pass_where(params["beliefs"], mask)
    return routed
