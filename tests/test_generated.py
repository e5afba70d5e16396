"""Generated files in the repo match what the code generates now."""

from __future__ import annotations

import json

from app.cli import OPENAPI_FILE, SCHEMA_FILE, openapi_text
from app.mapping.schema import mapping_schema, schema_text


def test_committed_openapi_is_up_to_date() -> None:
    committed = OPENAPI_FILE.read_text(encoding="utf-8")

    assert committed == openapi_text(), "stale: run `okrsync openapi`"


def test_committed_mapping_schema_is_up_to_date() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")

    assert committed == schema_text(builtin_only=True), (
        "stale: run `okrsync schema --builtin --output schema/mapping.schema.json`"
    )


def test_schema_offers_each_connector_and_the_key_result_keys() -> None:
    schema = mapping_schema(builtin_only=True)

    choices = schema["properties"]["sources"]["additionalProperties"]["oneOf"]
    types = {
        schema["$defs"][choice["$ref"].split("/")[-1]]["properties"]["type"]["const"]
        for choice in choices
    }
    assert {"jira", "github"} <= types
    key_result = schema["$defs"]["KeyResult"]["properties"]
    assert {"stay_above", "window", "milestone", "target"} <= set(key_result)
    json.dumps(schema)
