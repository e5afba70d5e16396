"""Reads YAML as an admin means it: text stays text, and every value has a line.

Plain scalars are kept as strings (`ON`, `NO`, `2.0` and `0755` arrive exactly as
typed); the models convert them where a number or a boolean is expected. Only
`null`, `~` and empty values become None. Duplicate keys are errors naming both
lines, `<<` merge keys work, and aliases may not expand beyond a small bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

Path = tuple[str | int, ...]

MAX_ALIAS_EXPANSION = 10_000
"""Nodes that aliases may add in all; beyond this a file is refused."""

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_MERGE_TAG = "tag:yaml.org,2002:merge"


class PlainScalar(str):
    """An unquoted scalar: its text, as typed, for fields that want raw YAML."""

    __slots__ = ()


class YamlTextError(Exception):
    """The text is not usable YAML; `line` is 1-based or None."""

    def __init__(self, message: str, line: int | None, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path


@dataclass
class Document:
    """A parsed file: plain Python data plus the line of every path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest part of `path` that the file has."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def parse(text: str) -> Document:
    """Parse YAML text into a `Document`; raise YamlTextError on bad text."""
    # The "safe" loader uses the C parser when ruamel.yaml.clib is installed;
    # only nodes are built here, so the round-trip machinery is not needed.
    yaml = YAML(typ="safe")
    try:
        root = yaml.compose(text)
    except ReaderError as exc:
        position = exc.position if isinstance(exc.position, int) else 0
        at = text.count("\n", 0, position) + 1
        raise YamlTextError(f"invalid YAML: {exc.reason}", at) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlTextError(f"invalid YAML: {problem}", line) from None
    builder = _Builder()
    if root is None:
        return Document(data=None)
    data = builder.build(root, ())
    return Document(data=data, lines=builder.lines)


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self._done: set[int] = set()
        self._active: set[int] = set()
        self._expanded = 0

    def build(self, node: Node, path: Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self._active:
            raise YamlTextError("an alias refers to itself", _line(node), path)
        if id(node) in self._done:
            self._count_expansion(node, path)
        self._active.add(id(node))
        try:
            return self._build_node(node, path)
        finally:
            self._active.discard(id(node))
            self._done.add(id(node))

    def _build_node(self, node: Node, path: Path) -> Any:
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise YamlTextError("unsupported YAML node", _line(node), path)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        merged: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged += self._merge_sources(value_node, path)
                continue
            if not isinstance(key_node, ScalarNode):
                raise YamlTextError("keys must be plain text", _line(key_node), path)
            key = str(key_node.value)
            line = _line(key_node)
            if key in key_lines:
                raise YamlTextError(
                    f"duplicate key {key!r} on lines {key_lines[key]} and {line}",
                    line,
                    (*path, key),
                )
            key_lines[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        for source in merged:
            for key, value in source.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, path: Path) -> list[dict[str, Any]]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources = [self.build(item, path) for item in nodes]
        if not all(isinstance(source, dict) for source in sources):
            raise YamlTextError("'<<' must merge mappings", _line(node), path)
        return sources

    def _count_expansion(self, node: Node, path: Path) -> None:
        self._expanded += _size(node)
        if self._expanded > MAX_ALIAS_EXPANSION:
            raise YamlTextError(
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} values; "
                "write the repeated parts out or use fewer nested aliases",
                _line(node),
                path,
            )


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(node: ScalarNode) -> Any:
    text = str(node.value)
    if node.style == ">":
        # The composer marks where folded lines were joined with BEL (\a),
        # for round-tripping; the value itself has none.
        text = text.replace("\a", "")
    # The C parser marks plain scalars with "", the Python one with None.
    if not node.style:
        if node.tag == "tag:yaml.org,2002:null" or text in _NULLS:
            return None
        return PlainScalar(text)
    return text


def _size(node: Node, seen: set[int] | None = None) -> int:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return 1
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        return 1 + sum(_size(item, seen) for item in node.value)
    if isinstance(node, MappingNode):
        return 1 + sum(_size(v, seen) for _, v in node.value)
    return 1
