"""Running from Python: one call that trains a population and saves it as ``brainlike run`` does."""

from __future__ import annotations

import os

from brainlike.config import Config
from brainlike.schema import OUTCOMES


def run_and_save(config: Config, n_seeds: int, out: str | os.PathLike, seed: int = 0, *,
                 progress: bool = True) -> list[str]:
    """Train ``n_seeds`` seeds of ``config``, save the run in ``out``, and return each seed's
    outcome label (``"honest"``, ``"caught"``, ``"evades_by_plan"``, ...; see ``schema.OUTCOMES``).

    ``out`` is created if needed and gets what ``brainlike run --out OUT`` writes:
    ``config.json``, ``metrics.npz`` (every metric, ``[seeds, logged points, ...]``),
    ``summary.json`` and ``manifest.json``; a folder that already holds a run is refused.
    Seed ``i`` uses the key ``fold_in(PRNGKey(seed), i)``, as ``brainlike run --seed SEED``
    does, so both give the same seeds. Read the run back with
    ``brainlike.store.results.load_run(out)``, or from the command line with ``brainlike inspect
    OUT --seed I``, ``brainlike export OUT`` and ``brainlike compare OUT OTHER``.
    ``progress``: a progress bar on stderr.
    """
    from brainlike.run.runner import run_conditions

    # a run too large for memory, or a folder that cannot be written, is refused before anything is written
    _, outcome = run_conditions({"": config}, n_seeds, seed, progress, out=out)[""]
    return [OUTCOMES[int(i)] for i in outcome]
