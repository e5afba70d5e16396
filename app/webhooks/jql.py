"""Which Jira projects a JQL query is limited to, as far as that can be told.

Only the boolean structure is parsed (AND, OR, NOT, parentheses); each clause
is looked at just enough to see `project = X`, `project in (X, Y)` or
`key = X-1`. Anything else, and anything that does not parse, counts as
"could match any project", so a webhook never misses a key result it affects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Projects = frozenset[str] | None
"""Lower-cased project keys, names or ids; None when any project may match."""

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|!~|>=|<=|=|~|>|<|&&|\|\||!)
    | (?P<punct>[(),])
    | (?P<word>[^\s"'(),=!~<>&|]+)
    )
    """,
    re.VERBOSE,
)

_KEY_FIELDS = frozenset({"key", "issue", "issuekey"})


class JqlError(ValueError):
    """The text could not be read as JQL."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str

    @property
    def word(self) -> str:
        """Upper-cased text of a bare word, for keywords; '' otherwise."""
        if self.kind == "op" and self.text in ("&&", "||", "!"):
            return {"&&": "AND", "||": "OR", "!": "NOT"}[self.text]
        return self.text.upper() if self.kind == "word" else ""

    @property
    def value(self) -> str:
        """The text with quotes and escapes removed."""
        if self.kind != "string":
            return self.text
        return re.sub(r"\\(.)", r"\1", self.text[1:-1])


def tokenize(text: str) -> list[_Token]:
    """Split JQL into tokens.

    Raises:
        JqlError: An unterminated string or a character JQL does not use.
    """
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(f"cannot read JQL at position {position}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def projects_of(jql: str | None) -> Projects:
    """The projects `jql` can only match issues of, or None if it may match any.

    Args:
        jql: The query, as the key result's `query:` holds it.

    Returns:
        Lower-cased names the query gives its projects (keys, names or ids,
        as written), or None.
    """
    if not jql or not jql.strip():
        return None
    try:
        parser = _Parser(tokenize(jql))
        return parser.parse()
    except JqlError:
        return None


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> Projects:
        projects = self._or()
        if not self._at_end():
            raise JqlError("unexpected text after the query")
        return projects

    def _peek(self) -> _Token | None:
        if self.position < len(self.tokens):
            return self.tokens[self.position]
        return None

    def _at_end(self) -> bool:
        token = self._peek()
        if token is None:
            return True
        following = self.tokens[self.position + 1 : self.position + 2]
        return token.word == "ORDER" and bool(following) and following[0].word == "BY"

    def _or(self) -> Projects:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.word == "OR":
            self.position += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        if any(part is None for part in parts):
            return None
        return frozenset().union(*(part for part in parts if part is not None))

    def _and(self) -> Projects:
        parts = [self._factor()]
        while (token := self._peek()) is not None and token.word == "AND":
            self.position += 1
            parts.append(self._factor())
        limits = [part for part in parts if part is not None]
        if not limits:
            return None
        return frozenset.intersection(*limits)

    def _factor(self) -> Projects:
        token = self._peek()
        if token is None:
            raise JqlError("the query ends where a condition should be")
        if token.word == "NOT":
            self.position += 1
            self._factor()
            # "not in these projects" still leaves every other project.
            return None
        if token.text == "(" and token.kind == "punct":
            self.position += 1
            inner = self._or()
            closing = self._peek()
            if closing is None or closing.text != ")":
                raise JqlError("a parenthesis is not closed")
            self.position += 1
            return inner
        return _clause_projects(self._clause())

    def _clause(self) -> list[_Token]:
        """The tokens up to the next AND/OR/closing parenthesis at this level."""
        clause: list[_Token] = []
        depth = 0
        while not self._at_end():
            token = self._peek()
            assert token is not None
            if depth == 0 and (token.word in ("AND", "OR") or token.text == ")"):
                break
            if token.kind == "punct" and token.text == "(":
                depth += 1
            elif token.kind == "punct" and token.text == ")":
                depth -= 1
            clause.append(token)
            self.position += 1
        if not clause or depth != 0:
            raise JqlError("a condition is incomplete")
        return clause


def _clause_projects(clause: list[_Token]) -> Projects:
    field = clause[0].value.lower()
    if field != "project" and field not in _KEY_FIELDS:
        return None
    values = _equal_or_in(clause[1:])
    if values is None:
        return None
    if field in _KEY_FIELDS:
        # An issue key names its project before the dash: TES-41 is in TES.
        keys = [value.rsplit("-", 1) for value in values]
        if any(len(parts) != 2 for parts in keys):
            return None
        values = [parts[0] for parts in keys]
    return frozenset(value.lower() for value in values)


def _equal_or_in(rest: list[_Token]) -> list[str] | None:
    """The values of `= X` or `in (X, Y)`; None for any other operator."""
    if len(rest) == 2 and rest[0].kind == "op" and rest[0].text == "=":
        return None if rest[1].kind == "punct" else [rest[1].value]
    if len(rest) < 3 or rest[0].word != "IN" or rest[1].text != "(":
        return None
    if rest[-1].text != ")":
        return None
    inner = rest[2:-1]
    values = [token for token in inner if not (token.kind == "punct")]
    commas = [token for token in inner if token.text == ","]
    # A function such as projectsLeadByUser() brings its own parentheses.
    if any(token.kind == "punct" and token.text != "," for token in inner):
        return None
    if not values or len(commas) != len(values) - 1:
        return None
    return [token.value for token in values]
