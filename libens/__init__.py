"""libens: dynamic ensembles of calculations."""

__version__ = "0.1.0"
