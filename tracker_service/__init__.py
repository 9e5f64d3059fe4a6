"""PreRollTracker: production batches, METRC finished goods and the Apex unit calculation."""

__all__ = ["__version__"]

__version__ = "0.1.0"
