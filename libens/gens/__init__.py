"""Generators: persistent support for gen_f's, the gest-api driver and built-in generators."""

from libens.gens.persistent import PersistentSupport

__all__ = ["PersistentSupport"]
