"""brainlike: brain-like belief/desire learners whose innate reward reads their beliefs.

Importing the library changes nothing in JAX's configuration; entry points (the command
line, the experiments runner, the tests) call ``brainlike.runtime.configure()``.
"""
