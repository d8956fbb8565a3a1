"""Checkpoints of a running population: a pytree's leaves in one ``.npz``, no pickle.

The file holds ``leaf_00000 ...`` (the leaves in ``jax.tree.flatten`` order), the tree's
structure as text and a JSON ``meta`` dict. ``load`` rebuilds the tree against an expected
one (arrays or ``jax.ShapeDtypeStruct``) and refuses a file whose structure, shapes or
dtypes differ, naming the file. Writes are atomic: a killed process leaves the previous
checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jax
import numpy as np

from brainlike.store.results import ResultsError, atomic_write

_TREE, _META = "__tree__", "__meta__"


def group_path(out: Path, gi: int) -> Path:
    """Where a sweep in ``out`` keeps the checkpoint of its group ``gi`` of conditions."""
    return Path(out) / f"checkpoint-{gi}.npz"


def save(path, tree, meta: dict | None = None) -> None:
    """Write ``tree`` (host or device arrays) and ``meta`` to ``path`` atomically."""
    leaves, treedef = jax.tree.flatten(tree)
    arrays = {f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(leaves)}
    arrays[_TREE] = np.asarray(str(treedef))
    arrays[_META] = np.asarray(json.dumps(meta or {}, allow_nan=False))
    atomic_write(Path(path), lambda f: np.savez(f, **arrays))  # uncompressed: a checkpoint is written often


def read_meta(path) -> dict:
    """Only the ``meta`` dict of a checkpoint."""
    with _open(path) as f:
        return json.loads(str(f[_META]))


def load(path, like) -> tuple:
    """``(tree, meta)``: the checkpoint's leaves as NumPy arrays in the structure of ``like``, or of
    ``like(meta)`` where the expected tree depends on the file's own meta (read in the same open).

    Raises ``ResultsError`` naming the file if the stored tree is not ``like``'s.
    """
    with _open(path) as f:
        meta = json.loads(str(f[_META]))
        expected, treedef = jax.tree.flatten(like(meta) if callable(like) else like)
        if str(f[_TREE]) != str(treedef):
            raise ResultsError(f"{path}: checkpoint holds a different state tree than this sweep builds "
                               "(was it written by another version of brainlike?)")
        n_stored = sum(1 for k in f.files if k.startswith("leaf_"))
        if n_stored != len(expected):
            raise ResultsError(f"{path}: checkpoint has {n_stored} arrays; this sweep expects {len(expected)}")
        leaves = []
        for i, want in enumerate(expected):
            x = f[f"leaf_{i:05d}"]
            if x.shape != tuple(want.shape) or x.dtype != np.dtype(want.dtype):
                raise ResultsError(f"{path}: checkpoint array {i} is {x.dtype}{list(x.shape)}; "
                                   f"this sweep expects {np.dtype(want.dtype)}{list(want.shape)}")
            leaves.append(x)
    return jax.tree.unflatten(treedef, leaves), meta


class _open:
    """``np.load`` without pickle, with errors as ``ResultsError`` naming the file."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        try:
            self.f = np.load(self.path, allow_pickle=False)
        except FileNotFoundError:
            raise ResultsError(f"{self.path}: missing checkpoint") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # empty, truncated or foreign
            raise ResultsError(f"{self.path}: unreadable checkpoint ({e or type(e).__name__}); remove it to "
                               "start the group again") from None
        if _TREE not in self.f.files or _META not in self.f.files:
            self.f.close()
            raise ResultsError(f"{self.path}: not a brainlike checkpoint")
        return self.f

    def __exit__(self, *exc):
        self.f.close()
        return False
