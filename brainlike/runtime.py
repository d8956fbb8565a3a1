"""What an entry point sets up in JAX before running: a persistent compilation cache, and the
CPU threefry lowering of ``fast_prng``. The library never calls this on import."""

from __future__ import annotations

import os

import jax

from brainlike.core import fast_prng


def configure(cache_dir: str | None = None) -> None:
    """Cache compiled programs in ``cache_dir`` (else ``$BRAINLIKE_CACHE``, else ``./.jax_cache``)
    unless a cache is set already, and unroll threefry on CPU unless ``BRAINLIKE_ROLLED_THREEFRY=1``."""
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir",
                          cache_dir or os.environ.get("BRAINLIKE_CACHE", os.path.join(os.getcwd(), ".jax_cache")))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    fast_prng.install()
