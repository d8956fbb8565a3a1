"""Running many seeds on the host's devices: rows, grids, the one runner, checkpoints,
progress and the benchmark."""
