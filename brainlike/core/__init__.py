"""Traced code for one seed: beliefs, desires, probes, the reward, routing, the thought
generator, rollout, losses and the learner. Imports nothing from ``run``, ``store`` or ``report``.
Importing it registers the config as a pytree (``traced``)."""

from brainlike.core import traced  # noqa: F401
