"""Reading people's files: YAML with positions, schema checks, messages that name file:line:column and key."""

from lambdalab.inputs.errors import InputError, InputErrors
from lambdalab.inputs.yaml_source import Document, load_yaml

__all__ = ["Document", "InputError", "InputErrors", "load_yaml"]
