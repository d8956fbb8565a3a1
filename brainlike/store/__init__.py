"""Results on disk and statistics over seeds, in NumPy and SciPy: result files, manifests,
summaries. Imports nothing from ``run`` or ``report``."""
