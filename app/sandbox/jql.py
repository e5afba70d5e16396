"""A small JQL parser and evaluator for the sandbox's Jira.

It understands the part of JQL okrsync's users write for key results::

    project = MOB AND fixVersion = "2.0" AND statusCategory != Done
    labels in (perf, reliability) OR NOT (priority = Low)
    "Story Points" is not EMPTY ORDER BY created DESC

Clauses: `=`, `!=`, `in`, `not in`, `is [not] EMPTY`, `~`/`!~` (text), and
`>`, `>=`, `<`, `<=` on numbers and dates, joined with AND, OR, NOT and
parentheses. Like Jira, `!=` and `not in` never match an issue whose field is
empty, values of named things (projects, statuses ...) must exist, and every
error reads as Jira's would, so connectors meet the same messages.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.sandbox.data import (
    STATUS_CATEGORIES,
    Company,
    Deployment,
    JiraCustomField,
    JiraIssue,
)

VALID_OPERATORS = (
    "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"
)
COMPARISON_OPERATORS = ("=", "!=", "~", "!~", ">", ">=", "<", "<=")
RESERVED_CHARACTERS = set("+;?*/%^$#@[]")
SYMBOLS = "\"'(),=!~<>&|"
PUNCTUATION: dict[str, Literal["(", ")", ","]] = {"(": "(", ")": ")", ",": ","}
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by"}
CUSTOM_FIELD_REF = re.compile(r"cf\[(\d+)\]", re.IGNORECASE)
TYPED_NAME = re.compile(r"(.+?)\s*\[([a-z ]+)\]")
RELATIVE_DATE = re.compile(r"([+-]?)(\d+)([wdhm])")
DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
PRIORITY_RANK = {"Highest": 1, "High": 2, "Medium": 3, "Low": 4, "Lowest": 5}

Value = str | None
"""A clause value; None stands for EMPTY (or NULL)."""


class JqlError(ValueError):
    """A query Jira would refuse; the message uses Jira's own wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _syntax_error(text: str, jql: str, offset: int) -> JqlError:
    line = jql.count("\n", 0, offset) + 1
    column = offset - (jql.rfind("\n", 0, offset) + 1) + 1
    return JqlError(f"Error in the JQL Query: {text} (line {line}, character {column})")


# Parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """One lexical unit; `offset` is where it starts in the query."""

    kind: Literal["word", "string", "op", "(", ")", ",", "eof"]
    text: str
    offset: int

    def is_word(self, *words: str) -> bool:
        """Whether this is an unquoted word equal to one of `words`."""
        return self.kind == "word" and self.text.lower() in words

    def shown(self) -> str:
        """The token as Jira quotes it in messages."""
        return "EOF" if self.kind == "eof" else self.text


@dataclass(frozen=True)
class Clause:
    """`field operator value(s)`."""

    field: str
    operator: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class And:
    """Every part matches."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one part matches."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The part does not match."""

    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    """One `ORDER BY` entry."""

    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: the condition (None when there is none) and the order."""

    where: Node | None
    order_by: tuple[OrderItem, ...]

    @property
    def bounded(self) -> bool:
        """Whether the query restricts anything (Jira Cloud insists on it)."""
        return self.where is not None


def tokenize(jql: str) -> list[Token]:
    """Split a query into tokens; quoted strings lose their quotes."""
    tokens: list[Token] = []
    offset = 0
    while offset < len(jql):
        char = jql[offset]
        if char.isspace():
            offset += 1
        elif char in "\"'":
            token, offset = _read_string(jql, offset)
            tokens.append(token)
        elif char in PUNCTUATION:
            tokens.append(Token(PUNCTUATION[char], char, offset))
            offset += 1
        elif char in "=!~<>&|":
            token = _read_operator(jql, offset)
            tokens.append(token)
            offset += len(token.text)
        else:
            token = _read_word(jql, offset)
            tokens.append(token)
            offset += len(token.text)
    tokens.append(Token("eof", "", len(jql)))
    return tokens


def _read_string(jql: str, start: int) -> tuple[Token, int]:
    quote = jql[start]
    chars: list[str] = []
    offset = start + 1
    while offset < len(jql):
        char = jql[offset]
        if char == "\\" and offset + 1 < len(jql):
            chars.append(jql[offset + 1])
            offset += 2
        elif char == quote:
            return Token("string", "".join(chars), start), offset + 1
        else:
            chars.append(char)
            offset += 1
    partial = "".join(chars)
    raise _syntax_error(
        f"The quoted string '{partial}' has not been completed.", jql, start
    )


def _read_operator(jql: str, start: int) -> Token:
    pair = jql[start : start + 2]
    if pair in ("!=", "!~", ">=", "<=", "&&", "||"):
        return Token("op", pair, start)
    return Token("op", jql[start], start)


def _read_word(jql: str, start: int) -> Token:
    end = start
    while end < len(jql) and not jql[end].isspace() and jql[end] not in SYMBOLS:
        end += 1
    word = jql[start:end]
    if not CUSTOM_FIELD_REF.fullmatch(word):
        for index, char in enumerate(word):
            if char in RESERVED_CHARACTERS:
                raise _syntax_error(
                    f"The character '{char}' is a reserved JQL character. You "
                    "must enclose it in a string or use the escape "
                    f"'\\u{ord(char):04x}' instead.",
                    jql,
                    start + index,
                )
    return Token("word", word, start)


def parse(jql: str) -> Query:
    """Parse a query.

    Args:
        jql: The query text.

    Returns:
        The condition tree and the ordering.

    Raises:
        JqlError: The query is not valid JQL.
    """
    return _Parser(jql).query()


class _Parser:
    """Recursive descent: OR binds loosest, then AND, then NOT."""

    def __init__(self, jql: str) -> None:
        self.jql = jql
        self.tokens = tokenize(jql)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def error(self, text: str, token: Token | None = None) -> JqlError:
        token = token or self.token
        return _syntax_error(text, self.jql, token.offset)

    def query(self) -> Query:
        where = None
        if not self.token.is_word("order") and self.token.kind != "eof":
            where = self.or_expression()
        order_by = self.order_by() if self.token.is_word("order") else ()
        if self.token.kind != "eof":
            raise self.error(
                f"Expecting either 'OR' or 'AND' but got '{self.token.shown()}'."
            )
        return Query(where, order_by)

    def or_expression(self) -> Node:
        parts = [self.and_expression()]
        while self.token.is_word("or") or self.token.text in ("||", "|"):
            self.advance()
            parts.append(self.and_expression())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expression(self) -> Node:
        parts = [self.not_expression()]
        while self.token.is_word("and") or self.token.text in ("&&", "&"):
            self.advance()
            parts.append(self.not_expression())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expression(self) -> Node:
        if self.token.is_word("not") or (
            self.token.kind == "op" and self.token.text == "!"
        ):
            self.advance()
            return Not(self.not_expression())
        if self.token.kind == "(":
            self.advance()
            inner = self.or_expression()
            self.expect(")")
            return inner
        return self.clause()

    def expect(self, kind: str) -> Token:
        if self.token.kind != kind:
            raise self.error(f"Expecting '{kind}' but got '{self.token.shown()}'.")
        return self.advance()

    def field_name(self) -> str:
        token = self.token
        if token.kind == "string" or (
            token.kind == "word" and token.text.lower() not in KEYWORDS
        ):
            self.advance()
            return token.text
        raise self.error(f"Expecting a field name but got '{token.shown()}'.")

    def clause(self) -> Clause:
        field = self.field_name()
        operator = self.operator()
        if operator in ("in", "not in"):
            return Clause(field, operator, self.value_list())
        if operator in ("is", "is not"):
            return Clause(field, operator, (self.empty_keyword(),))
        if self.token.kind == "(":
            raise self.error(
                f"The operator '{operator}' does not support a list of values "
                f"for field '{field}'."
            )
        return Clause(field, operator, (self.value(),))

    def operator(self) -> str:
        token = self.token
        if token.kind == "op" and token.text in COMPARISON_OPERATORS:
            self.advance()
            return token.text
        if token.is_word("in"):
            self.advance()
            return "in"
        if token.is_word("not") and self.tokens[self.index + 1].is_word("in"):
            self.index += 2
            return "not in"
        if token.is_word("is"):
            self.advance()
            if self.token.is_word("not"):
                self.advance()
                return "is not"
            return "is"
        raise self.error(
            f"Expecting operator but got '{token.shown()}'. The valid operators "
            f"are {VALID_OPERATORS}."
        )

    def empty_keyword(self) -> Value:
        if self.token.is_word("empty", "null"):
            self.advance()
            return None
        raise self.error(f"Expecting 'EMPTY' or 'NULL' but got '{self.token.shown()}'.")

    def value(self) -> Value:
        token = self.token
        if token.is_word("empty", "null"):
            self.advance()
            return None
        if token.kind == "string" or (
            token.kind == "word" and token.text.lower() not in KEYWORDS
        ):
            self.advance()
            if self.token.kind == "(":
                raise JqlError(f"Unable to find JQL function '{token.text}()'.")
            return token.text
        raise self.error(
            f"Expecting either a value, list or function but got '{token.shown()}'."
        )

    def value_list(self) -> tuple[Value, ...]:
        self.expect("(")
        values = [self.value()]
        while self.token.kind == ",":
            self.advance()
            values.append(self.value())
        self.expect(")")
        return tuple(values)

    def order_by(self) -> tuple[OrderItem, ...]:
        self.advance()
        if not self.token.is_word("by"):
            raise self.error(f"Expecting 'by' but got '{self.token.shown()}'.")
        self.advance()
        items = [self.order_item()]
        while self.token.kind == ",":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.field_name()
        descending = False
        if self.token.is_word("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        return OrderItem(field, descending)


# Evaluation ---------------------------------------------------------------

Atom = str | float | datetime
Getter = Callable[[JiraIssue], Sequence[Atom]]
Predicate = Callable[[JiraIssue], bool]

SET_OPERATORS = frozenset({"=", "!=", "in", "not in", "is", "is not"})
TEXT_OPERATORS = frozenset({"~", "!~", "is", "is not"})
ORDERED_OPERATORS = SET_OPERATORS | {">", ">=", "<", "<="}


@dataclass(frozen=True)
class FieldSpec:
    """How one JQL field reads an issue and which operators it takes."""

    name: str
    kind: Literal["set", "text", "number", "date"]
    operators: frozenset[str]
    getter: Getter
    resolve: Callable[[str], set[Atom]] | None = None


class JqlEngine:
    """Evaluates JQL over a company's issues as one Jira deployment would.

    The deployment matters for custom fields: Cloud and Data Center give
    "Story Points" different ids, and each knows only its own.
    """

    def __init__(
        self,
        company: Company,
        *,
        deployment: Deployment = "cloud",
        now: datetime | None = None,
    ) -> None:
        """Prepare the field table.

        Args:
            company: The data to search.
            deployment: "cloud" or "datacenter".
            now: The time relative dates (`-7d`) count from; defaults to now.
        """
        self.company = company
        self.deployment = deployment
        self.now = now
        self.fields = self._system_fields()
        self.custom_fields = company.custom_fields(deployment)

    def search(self, jql: str) -> list[JiraIssue]:
        """The issues matching a query, in the query's order.

        Raises:
            JqlError: The query is invalid or names unknown fields or values.
        """
        return self.run(parse(jql))

    def run(self, query: Query) -> list[JiraIssue]:
        """The issues matching a parsed query, in the query's order."""
        predicate = self.compile(query.where) if query.where else _always
        issues = [issue for issue in self.company.jira_issues if predicate(issue)]
        return self._order(issues, query.order_by)

    def compile(self, node: Node) -> Predicate:
        """Turn a condition tree into a test on one issue."""
        if isinstance(node, Clause):
            return self._clause(node)
        if isinstance(node, Not):
            inner = self.compile(node.part)
            return lambda issue: not inner(issue)
        parts = [self.compile(part) for part in node.parts]
        if isinstance(node, And):
            return lambda issue: all(part(issue) for part in parts)
        return lambda issue: any(part(issue) for part in parts)

    def field(self, name: str) -> FieldSpec:
        """The field a JQL name refers to.

        Raises:
            JqlError: No such field on this deployment.
        """
        lowered = name.lower()
        if lowered in self.fields:
            return self.fields[lowered]
        custom = self._custom_field(lowered)
        if custom is not None:
            return self._custom_spec(custom)
        raise JqlError(
            f"Field '{name}' does not exist or you do not have permission to view it."
        )

    def _custom_field(self, lowered: str) -> JiraCustomField | None:
        reference = CUSTOM_FIELD_REF.fullmatch(lowered)
        # Jira also takes a name with its type, e.g. "Story Points[Number]".
        typed = TYPED_NAME.fullmatch(lowered)
        for custom in self.custom_fields:
            if reference and int(reference.group(1)) == custom.numeric_id:
                return custom
            if lowered in (custom.id, custom.name.lower()):
                return custom
            if typed and typed.groups() == (custom.name.lower(), _type_word(custom)):
                return custom
        return None

    def _custom_spec(self, custom: JiraCustomField) -> FieldSpec:
        holds_points = custom.id == self.company.story_points_field[self.deployment]

        def getter(issue: JiraIssue) -> Sequence[Atom]:
            if holds_points and issue.story_points is not None:
                return [issue.story_points]
            return []

        if custom.schema_type == "number":
            return FieldSpec(custom.name, "number", ORDERED_OPERATORS, getter)
        return FieldSpec(custom.name, "text", TEXT_OPERATORS, getter)

    def _system_fields(self) -> dict[str, FieldSpec]:
        specs = [
            self._set_field("project", lambda i: [i.project], self._projects),
            self._set_field("key", lambda i: [i.key], self._keys),
            self._set_field("issuetype", lambda i: [i.issuetype], self._types),
            self._set_field("status", lambda i: [i.status.id], self._statuses),
            self._set_field(
                "statusCategory", lambda i: [i.status.category_key], _categories
            ),
            self._set_field("priority", lambda i: [i.priority], self._priorities),
            self._set_field("labels", _labels, lambda v: {v.lower()}),
            self._set_field("fixVersion", lambda i: i.fix_versions, self._versions),
            self._set_field("resolution", _resolution, self._resolutions),
            FieldSpec("summary", "text", TEXT_OPERATORS, lambda i: [i.summary]),
            FieldSpec("created", "date", ORDERED_OPERATORS, lambda i: [i.created]),
            FieldSpec("updated", "date", ORDERED_OPERATORS, lambda i: [i.updated]),
            FieldSpec(
                "resolutiondate",
                "date",
                ORDERED_OPERATORS,
                lambda i: [i.updated] if i.done else [],
            ),
        ]
        table = {spec.name.lower(): spec for spec in specs}
        aliases = {
            "issuekey": "key",
            "issue": "key",
            "id": "key",
            "type": "issuetype",
            "category": "statuscategory",
            "text": "summary",
            "createddate": "created",
            "updateddate": "updated",
            "resolved": "resolutiondate",
        }
        table.update({alias: table[target] for alias, target in aliases.items()})
        return table

    def _set_field(
        self, name: str, getter: Getter, resolve: Callable[[str], set[Atom]]
    ) -> FieldSpec:
        return FieldSpec(name, "set", SET_OPERATORS, getter, resolve)

    def _unknown_value(self, value: str, field: str) -> JqlError:
        return JqlError(f"The value '{value}' does not exist for the field '{field}'.")

    def _projects(self, value: str) -> set[Atom]:
        for index, (key, name) in enumerate(self.company.jira_projects.items()):
            if value.lower() in (key.lower(), name.lower(), str(10000 + index)):
                return {key}
        raise self._unknown_value(value, "project")

    def _keys(self, value: str) -> set[Atom]:
        for issue in self.company.jira_issues:
            if value.upper() == issue.key or value == issue.id:
                return {issue.key}
        raise JqlError(f"An issue with key '{value}' does not exist for field 'key'.")

    def _types(self, value: str) -> set[Atom]:
        for name, type_id in ISSUE_TYPE_IDS.items():
            if value.lower() in (name.lower(), type_id):
                return {name}
        raise self._unknown_value(value, "issuetype")

    def _statuses(self, value: str) -> set[Atom]:
        found: set[Atom] = {
            status.id
            for status in self.company.jira_statuses
            if value.lower() in (status.name.lower(), status.id)
        }
        if not found:
            raise self._unknown_value(value, "status")
        return found

    def _priorities(self, value: str) -> set[Atom]:
        for name, rank in PRIORITY_RANK.items():
            if value.lower() in (name.lower(), str(rank)):
                return {name}
        raise self._unknown_value(value, "priority")

    def _versions(self, value: str) -> set[Atom]:
        found: set[Atom] = {
            version.name
            for version in self.company.jira_versions
            if value.lower() in (version.name.lower(), version.id)
        }
        if not found:
            raise self._unknown_value(value, "fixVersion")
        return found

    def _resolutions(self, value: str) -> set[Atom]:
        for name, resolution_id in RESOLUTION_IDS.items():
            if value.lower() in (name.lower(), resolution_id):
                return {name}
        raise self._unknown_value(value, "resolution")

    def _clause(self, clause: Clause) -> Predicate:
        spec = self.field(clause.field)
        if clause.operator not in spec.operators:
            raise JqlError(
                f"The operator '{clause.operator}' is not supported by the "
                f"'{clause.field}' field."
            )
        if clause.operator in ("is", "is not"):
            empty = clause.operator == "is"
            return lambda issue: (not spec.getter(issue)) == empty
        if spec.kind == "text":
            return self._text_clause(spec, clause)
        if clause.operator in (">", ">=", "<", "<="):
            return self._ordered_clause(spec, clause)
        return self._set_clause(spec, clause)

    def _set_clause(self, spec: FieldSpec, clause: Clause) -> Predicate:
        wanted: set[Atom] = set()
        wants_empty = False
        for value in clause.values:
            if value is None or (spec.name == "resolution" and _unresolved(value)):
                wants_empty = True
            else:
                wanted |= self._resolve(spec, value)
        positive = clause.operator in ("=", "in")

        def test(issue: JiraIssue) -> bool:
            atoms = set(spec.getter(issue))
            hit = bool(atoms & wanted) or (wants_empty and not atoms)
            if positive:
                return hit
            return bool(atoms) and not hit

        return test

    def _resolve(self, spec: FieldSpec, value: str) -> set[Atom]:
        if spec.kind == "number":
            return {self._number(spec, value)}
        if spec.kind == "date":
            return {self._date(spec, value)}
        if spec.resolve is None:
            return {value}
        return spec.resolve(value)

    def _ordered_clause(self, spec: FieldSpec, clause: Clause) -> Predicate:
        value = clause.values[0]
        if value is None or spec.kind not in ("number", "date"):
            raise JqlError(
                f"The operator '{clause.operator}' is not supported by the "
                f"'{clause.field}' field."
            )
        bound = next(iter(self._resolve(spec, value)))
        compare = COMPARISONS[clause.operator]
        return lambda issue: any(compare(atom, bound) for atom in spec.getter(issue))

    def _text_clause(self, spec: FieldSpec, clause: Clause) -> Predicate:
        value = clause.values[0]
        if value is None:
            raise JqlError(
                f"The operator '{clause.operator}' is not supported by the "
                f"'{clause.field}' field."
            )
        terms = re.findall(r"[\w*?]+", value.lower())
        negated = clause.operator == "!~"

        def test(issue: JiraIssue) -> bool:
            texts = [str(text) for text in spec.getter(issue)]
            if not texts:
                return False
            found = any(_text_matches(text, terms) for text in texts)
            return found != negated

        return test

    def _number(self, spec: FieldSpec, value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise JqlError(
                f"The value '{value}' is not a valid number for the field "
                f"'{spec.name}'."
            ) from None

    def _date(self, spec: FieldSpec, value: str) -> datetime:
        relative = RELATIVE_DATE.fullmatch(value.strip())
        if relative:
            sign, amount, unit = relative.groups()
            delta = timedelta(**{UNITS[unit]: int(amount)})
            now = self.now or datetime.now(UTC)
            return now - delta if sign == "-" else now + delta
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(value.strip(), pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise JqlError(
            f"Date value '{value}' for field '{spec.name}' is invalid. Valid formats "
            "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
            "'yyyy-MM-dd', or a period format e.g. '-5d', '4w'."
        )

    def _order(
        self, issues: list[JiraIssue], order_by: Iterable[OrderItem]
    ) -> list[JiraIssue]:
        """Stable sorts, last key first; unordered queries come newest first."""
        items = list(order_by)
        for item in items:
            self.field(item.field)
        ordered = sorted(issues, key=lambda issue: int(issue.id), reverse=True)
        for item in reversed(items):
            sort_key = ORDER_KEYS.get(self.field(item.field).name)
            if sort_key is not None:
                ordered.sort(key=sort_key, reverse=item.descending)
        return ordered


ISSUE_TYPE_IDS = {"Epic": "10000", "Story": "10001", "Task": "10002", "Bug": "10004"}
RESOLUTION_IDS = {"Done": "10000", "Won't Do": "10001"}
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

ORDER_KEYS: dict[str, Callable[[JiraIssue], tuple[str, int] | int | str]] = {
    "key": lambda issue: (issue.project, issue.number),
    "created": lambda issue: int(issue.id),
    "updated": lambda issue: issue.updated.isoformat(),
    "priority": lambda issue: PRIORITY_RANK[issue.priority],
    "summary": lambda issue: issue.summary.lower(),
}


def _type_word(custom: JiraCustomField) -> str:
    return "number" if custom.schema_type == "number" else "short text"


def _always(issue: JiraIssue) -> bool:
    return True


def _labels(issue: JiraIssue) -> Sequence[Atom]:
    return [label.lower() for label in issue.labels]


def _resolution(issue: JiraIssue) -> Sequence[Atom]:
    return [] if issue.resolution is None else [issue.resolution]


def _unresolved(value: str) -> bool:
    return value.lower() == "unresolved"


def _categories(value: str) -> set[Atom]:
    for category in STATUS_CATEGORIES.values():
        names = (category.key, category.name.lower(), str(category.id))
        if value.lower() in names:
            return {category.key}
    raise JqlError(
        f"The value '{value}' does not exist for the field 'statusCategory'."
    )


def _text_matches(text: str, terms: list[str]) -> bool:
    """Every term occurs in the text; a trailing `*` matches a word prefix."""
    lowered = text.lower()
    words = re.findall(r"\w+", lowered)
    for term in terms:
        if term.endswith("*"):
            stem = term.rstrip("*")
            if not any(word.startswith(stem) for word in words):
                return False
        elif term not in lowered:
            return False
    return True


def search(
    company: Company, jql: str, *, deployment: Deployment = "cloud"
) -> list[JiraIssue]:
    """The issues of `company` matching `jql`, in the query's order.

    Raises:
        JqlError: The query is invalid or names unknown fields or values.
    """
    return JqlEngine(company, deployment=deployment).search(jql)
