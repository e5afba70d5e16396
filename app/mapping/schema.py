"""JSON Schema of mapping files, generated from the same models that validate.

Editors that speak the YAML language server protocol complete and check keys
with it: put `# yaml-language-server: $schema=<path or URL>` at the top of a
mapping file.
"""

from __future__ import annotations

import json
from typing import Any

from app.mapping.models import Mapping
from connectors import registry

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def mapping_schema(*, builtin_only: bool = False) -> dict[str, Any]:
    """The schema of a mapping file, with a source block per installed connector."""
    schema = Mapping.model_json_schema(ref_template="#/$defs/{model}")
    definitions: dict[str, Any] = schema.setdefault("$defs", {})
    choices: list[dict[str, str]] = []
    for type_name, connector in sorted(registry.available().items()):
        if builtin_only and not connector.__module__.startswith("connectors."):
            continue
        model = connector.config_model
        block = model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(block.pop("$defs", {}))
        name = f"{model.__name__}"
        block["description"] = f"A `type: {type_name}` source."
        definitions[name] = block
        choices.append({"$ref": f"#/$defs/{name}"})
    schema["properties"]["sources"]["additionalProperties"] = {"oneOf": choices}
    return {"$schema": SCHEMA_DIALECT, "title": "okrsync mapping file", **schema}


def schema_text(*, builtin_only: bool = False) -> str:
    """The schema as committed: sorted keys, two-space indent."""
    schema = mapping_schema(builtin_only=builtin_only)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
