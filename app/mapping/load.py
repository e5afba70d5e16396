"""Loads mapping files into a validated `MappingSet`, or reports every problem.

Loading is all or nothing: a caller either gets a complete set or a
`MappingError` listing each problem with file, line and field, so a running
service can keep its old configuration when a new file is wrong.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from app.mapping.errors import MappingError, MappingProblem
from app.mapping.models import KeyResult, Mapping, Objective
from app.mapping.yamltext import Document, YamlTextError, parse
from app.mapping.yamltext import Path as YamlPath
from connectors import registry
from connectors.base import Connector, SourceConfig
from connectors.http import dumps

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_PURE_REFERENCE = re.compile(r"^\$\{(?:file:[^}]+|[A-Za-z_][A-Za-z0-9_]*)\}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Source:
    """A validated source block and the connector that serves it."""

    name: str
    file: str
    config: SourceConfig
    connector: type[Connector]  # type: ignore[type-arg]
    fingerprint: str
    """Same for two blocks that reach the same upstream with the same settings."""


@dataclass(frozen=True)
class LoadedKeyResult:
    """A key result with everything needed to sync and score it."""

    spec: KeyResult
    objective: Objective
    mapping: Mapping
    file: str
    source: Source | None
    params: BaseModel | None
    written: dict[str, Any] = field(default_factory=dict)
    """`query` and `params` as written, before `${...}` was substituted: what
    may be stored and shown, since substituted values can be secrets."""


@dataclass
class MappingSet:
    """Every objective and key result of a set of mapping files."""

    files: list[str] = field(default_factory=list)
    objectives: dict[str, tuple[Objective, Mapping, str]] = field(default_factory=dict)
    key_results: dict[str, LoadedKeyResult] = field(default_factory=dict)


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[MappingProblem]]:
    """Files named directly, plus every *.yaml and *.yml in named folders."""
    files: list[Path] = []
    problems: list[MappingProblem] = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                problems.append(_problem(path, "no *.yaml files in this folder"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(_problem(path, "no such file or folder"))
    # A file named twice (directly and through its folder) is read once.
    unique = {file.resolve(): file for file in reversed(files)}
    return [file for file in files if unique.get(file.resolve()) is file], problems


def load_mapping_set(
    paths: Iterable[Path], env: AnyMapping[str, str] | None = None
) -> MappingSet:
    """Load and cross-check mapping files; raise MappingError listing all problems."""
    env = os.environ if env is None else env
    files, problems = expand_paths(paths)
    result = MappingSet()
    for path in files:
        file_problems, loaded = load_file(path, env)
        problems += file_problems
        if loaded is not None:
            problems += _merge(result, loaded, str(path))
    if problems:
        raise MappingError(problems)
    return result


def load_file(
    path: Path, env: AnyMapping[str, str]
) -> tuple[list[MappingProblem], MappingSet | None]:
    """Validate one file; return its problems, or a set holding just this file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [_problem(path, f"cannot read the file: {exc}")], None
    return load_text(text, str(path), env)


def load_text(
    text: str, file: str, env: AnyMapping[str, str]
) -> tuple[list[MappingProblem], MappingSet | None]:
    """Validate mapping text that came from `file` (a name used in messages)."""
    try:
        document = parse(text)
    except YamlTextError as exc:
        return [MappingProblem(file, exc.line, _field(exc.path), exc.message)], None
    if not isinstance(document.data, dict):
        message = "the file must be a mapping with version, sources and objectives"
        return [MappingProblem(file, 1, "", message)], None
    return _FileLoader(file, document, env).load()


class _FileLoader:
    def __init__(self, file: str, document: Document, env: AnyMapping[str, str]):
        self.file = file
        self.document = document
        self.env = env
        self.problems: list[MappingProblem] = []
        self.pure_references: set[YamlPath] = set()

    def load(self) -> tuple[list[MappingProblem], MappingSet | None]:
        data = self._substitute(self.document.data, ())
        if self.problems:
            return self.problems, None
        mapping: Mapping | None = None
        try:
            mapping = Mapping.model_validate(data)
        except ValidationError as exc:
            self._add_validation_errors(exc, ())
        blocks = data.get("sources")
        sources = {
            name: source
            for name, block in (blocks.items() if isinstance(blocks, dict) else ())
            if isinstance(block, dict)
            if (source := self._source(name, block)) is not None
        }
        if mapping is None:
            self.problems.sort(key=lambda problem: problem.line or 0)
            return self.problems, None
        result = MappingSet(files=[self.file])
        for i, objective in enumerate(mapping.objectives):
            if objective.id in result.objectives:
                self._add(
                    ("objectives", i, "id"),
                    f"objective id {objective.id!r} is used twice in this file",
                )
            result.objectives[objective.id] = (objective, mapping, self.file)
            for j, spec in enumerate(objective.key_results):
                where: YamlPath = ("objectives", i, "key_results", j)
                if spec.id in result.key_results:
                    self._add(
                        (*where, "id"),
                        f"key result id {spec.id!r} is used twice in this file",
                    )
                loaded = self._key_result(spec, objective, mapping, sources, where)
                if loaded is not None:
                    result.key_results[spec.id] = loaded
        self.problems.sort(key=lambda problem: problem.line or 0)
        return self.problems, (None if self.problems else result)

    def _source(self, name: str, block: dict[str, Any]) -> Source | None:
        where: YamlPath = ("sources", name)
        type_name = block.get("type")
        if not isinstance(type_name, str) or not type_name:
            self._add((*where, "type"), "required: the connector type of this source")
            return None
        try:
            connector = registry.get(type_name)
        except registry.UnknownConnectorError as exc:
            self._add((*where, "type"), str(exc))
            return None
        try:
            config = connector.config_model.model_validate(block)
        except ValidationError as exc:
            self._add_validation_errors(exc, where)
            return None
        self._check_secrets(config, where)
        return Source(name, self.file, config, connector, _fingerprint(config))

    def _check_secrets(self, config: SourceConfig, where: YamlPath) -> None:
        for name, value in config:
            path = (*where, name)
            if isinstance(value, SecretStr) and path not in self.pure_references:
                self._add(
                    path,
                    "secrets must not be written in the mapping; use ${ENV_VAR} "
                    "or ${file:/path/to/secret}",
                )

    def _key_result(
        self,
        spec: KeyResult,
        objective: Objective,
        mapping: Mapping,
        sources: dict[str, Source],
        where: YamlPath,
    ) -> LoadedKeyResult | None:
        if spec.source is None:
            return LoadedKeyResult(spec, objective, mapping, self.file, None, None)
        source = sources.get(spec.source)
        if source is None:
            if spec.source not in mapping.sources:
                names = ", ".join(sorted(mapping.sources)) or "none defined"
                self._add(
                    (*where, "source"),
                    f"unknown source {spec.source!r}; sources in this file: {names}",
                )
            return None
        metric = source.connector.metrics.get(spec.metric or "")
        if metric is None:
            names = ", ".join(sorted(source.connector.metrics))
            self._add(
                (*where, "metric"),
                f"unknown metric {spec.metric!r} for a {source.config.type} source; "
                f"metrics: {names}",
            )
            return None
        if spec.window is not None and not metric.windowed:
            self._add(
                (*where, "window"),
                f"the {metric.name} metric is not measured over a time window",
            )
            return None
        if metric.needs_query and not spec.query:
            self._add((*where, "query"), f"required by the {metric.name} metric")
            return None
        try:
            params = metric.params.model_validate(spec.params)
        except ValidationError as exc:
            self._add_validation_errors(exc, (*where, "params"))
            return None
        written = self._written(where)
        return LoadedKeyResult(
            spec, objective, mapping, self.file, source, params, written
        )

    def _written(self, where: YamlPath) -> dict[str, Any]:
        node: Any = self.document.data
        for part in where:
            node = node[part]
        return {
            "query": _plain(node.get("query")),
            "params": _plain(node.get("params")) or {},
        }

    def _substitute(self, value: Any, path: YamlPath) -> Any:
        if isinstance(value, dict):
            return {k: self._substitute(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        if _PURE_REFERENCE.match(value.strip()):
            self.pure_references.add(path)
        substituted = _REFERENCE.sub(lambda m: self._resolve(m, path), value)
        return type(value)(substituted)

    def _resolve(self, match: re.Match[str], path: YamlPath) -> str:
        if match.group(0) == "$${":
            return "${"
        reference = match.group(1)
        if reference.startswith("file:"):
            return self._read_secret_file(reference[5:], path)
        name, has_default, default = reference.partition(":-")
        if not _ENV_NAME.match(name):
            self._add(path, f"${{{reference}}} is not a valid variable reference")
            return ""
        if name in self.env:
            return self.env[name]
        if has_default:
            return default
        self._add(path, f"environment variable {name} is not set")
        return ""

    def _read_secret_file(self, name: str, path: YamlPath) -> str:
        try:
            return Path(name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            self._add(path, f"cannot read {name}: {exc.__class__.__name__}")
            return ""

    def _add_validation_errors(self, exc: ValidationError, prefix: YamlPath) -> None:
        for error in exc.errors(include_url=False, include_input=False):
            loc = (*prefix, *error["loc"])
            self._add(loc, _message(error, loc))

    def _add(self, path: YamlPath, message: str) -> None:
        line = self.document.line_of(path)
        self.problems.append(MappingProblem(self.file, line, _field(path), message))


def _message(error: Any, loc: YamlPath) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _merge(result: MappingSet, loaded: MappingSet, file: str) -> list[MappingProblem]:
    problems: list[MappingProblem] = []
    for objective_id, entry in loaded.objectives.items():
        if objective_id in result.objectives:
            other = result.objectives[objective_id][2]
            problems.append(
                MappingProblem(
                    file,
                    None,
                    "objectives",
                    f"objective id {objective_id!r} "
                    f"is also used in {other}; ids must be unique across files",
                )
            )
        result.objectives[objective_id] = entry
    for kr_id, kr in loaded.key_results.items():
        if kr_id in result.key_results:
            other = result.key_results[kr_id].file
            where = "this file" if other == file else other
            problems.append(
                MappingProblem(
                    file,
                    None,
                    "key_results",
                    f"key result id {kr_id!r} is also "
                    f"used in {where}; ids must be unique across files",
                )
            )
        result.key_results[kr_id] = kr
    result.files.append(file)
    return problems


def _plain(value: Any) -> Any:
    """YAML data as plain JSON-ready values (scalars stay text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if value is None else str(value)


def _fingerprint(config: SourceConfig) -> str:
    plain = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in config
    }
    return hashlib.sha256(dumps(plain).encode()).hexdigest()[:16]


def _field(path: YamlPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _problem(path: Path, message: str) -> MappingProblem:
    return MappingProblem(str(path), None, "", message)
