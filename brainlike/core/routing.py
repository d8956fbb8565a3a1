"""The routing table (``brainlike.routes``) applied: each loss sees the parameters with the
gradient stopped at every group its row does not name.

``route(params, groups)`` returns the parameters with ``jax.lax.stop_gradient`` on every group
outside ``groups``; each loss is computed on its own routed view, so one backward pass of the
summed loss gives each group exactly the gradients its table row allows.
"""

from __future__ import annotations

import jax


def route(params: dict, groups: tuple[str, ...]) -> dict:
    """``params`` with the gradient stopped at every group not in ``groups``."""
    return {g: p if g in groups else jax.lax.stop_gradient(p) for g, p in params.items()}
