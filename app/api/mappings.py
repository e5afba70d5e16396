"""Mapping files at run time: reload them all, or check one without loading."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from ruamel.yaml.error import YAMLError

from app.api.deps import ServiceDep
from app.api.problems import BODY_RESPONSES, problem_response
from app.mapping import MappingError
from app.mapping.errors import MappingProblem
from app.mapping.load import load_text

router = APIRouter(prefix="/api/v1/mappings", tags=["mappings"])

MAX_MAPPING_BYTES = 1024 * 1024


# The loaded configuration after a reload or a check.
class MappingSummary(BaseModel):
    files: list[str]
    objectives: int
    key_results: int


# What the admin posts to check.
class MappingText(BaseModel):
    model_config = {"extra": "forbid"}

    text: str = Field(max_length=MAX_MAPPING_BYTES, description="The YAML file.")
    name: str = Field(default="posted.yaml", description="Used in messages.")


@router.post("/reload", response_model=MappingSummary)
async def reload_mappings(service: ServiceDep) -> Any:
    """Load every mapping file again; swap them in only if all are valid."""
    try:
        mappings = await service.reload_mappings()
    except MappingError as exc:
        return _invalid(exc, "The running configuration was kept.")
    return MappingSummary(
        files=mappings.files,
        objectives=len(mappings.objectives),
        key_results=len(mappings.key_results),
    )


@router.post("/validate", response_model=MappingSummary, responses=BODY_RESPONSES)
async def validate_mapping(body: MappingText, request: Request) -> Any:
    """Check a mapping file's text without loading it."""
    try:
        problems, loaded = load_text(body.text, body.name, os.environ)
    except YAMLError as exc:
        # The YAML reader refuses control characters before parsing starts,
        # with an error that load_text does not turn into a problem.
        message = f"invalid YAML: {str(exc).splitlines()[0]}"
        problems, loaded = [MappingProblem(body.name, None, "", message)], None
    if problems or loaded is None:
        return _invalid(MappingError(problems), "Nothing was loaded.")
    return MappingSummary(
        files=[body.name],
        objectives=len(loaded.objectives),
        key_results=len(loaded.key_results),
    )


def _invalid(exc: MappingError, outcome: str) -> Any:
    errors = [
        {
            "file": problem.file,
            "line": problem.line,
            "field": problem.field,
            "message": problem.message,
        }
        for problem in exc.problems
    ]
    count = len(errors)
    detail = (
        f"{count} problem{'s' if count != 1 else ''} in the mapping files. {outcome}"
    )
    return problem_response(422, "Invalid mapping", detail, "invalid-mapping", errors)
