"""External generator programs in any language, driven through JSON files."""

from libens.gens.external.constraints import LinearConstraint, parse_constraint
from libens.gens.external.generator import ExternalGenerator
from libens.gens.external.runner import ExternalGeneratorError
from libens.gens.external.schema import parse_parameter, vocs_from_parameters

__all__ = [
    "ExternalGenerator",
    "ExternalGeneratorError",
    "LinearConstraint",
    "parse_constraint",
    "parse_parameter",
    "vocs_from_parameters",
]
