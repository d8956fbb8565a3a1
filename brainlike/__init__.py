"""brainlike: brain-like belief/desire learners whose innate reward reads their beliefs."""

import os

import jax

# A persistent compilation cache makes repeat runs and tests skip XLA compilation.
if not jax.config.jax_compilation_cache_dir:
    jax.config.update("jax_compilation_cache_dir",
                      os.environ.get("BRAINLIKE_CACHE", os.path.join(os.getcwd(), ".jax_cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

# Threefry unrolled on CPU as on GPU: the same random bits, compiled and run faster (fast_prng.py).
from brainlike import fast_prng  # noqa: E402

fast_prng.install()
