"""Mapping files: the YAML that says which number feeds which key result."""

from app.mapping.errors import MappingError, MappingProblem
from app.mapping.load import MappingSet, load_mapping_set

__all__ = ["MappingError", "MappingProblem", "MappingSet", "load_mapping_set"]
