"""A small parser for GraphQL executable documents, so the sandbox can answer queries without a
GraphQL library at run time (graphql-core is a development dependency only).

It reads what clients send: operations (``query``/``mutation``, named or not, variable definitions
with defaults), fields with aliases, arguments and directives, nested selection sets, inline
fragments and fragment definitions, and every literal kind (strings, block strings, numbers,
booleans, null, enums, lists, objects, variables). It does not validate against a schema: the
sandbox checks field names against its own type table, and the tests validate every document the
connector sends against Shopify's published schema (``profilesync.testing.specs.GraphQLSchema``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_PUNCTUATORS = frozenset("!$():=@[]{}|&")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class GraphQLSyntaxError(ValueError):
    """The document does not parse; ``line`` and ``column`` are 1-based, as GraphQL errors report."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Variable:
    """A ``$name`` reference inside an argument value, resolved when the operation runs."""

    name: str


@dataclass(frozen=True)
class EnumValue:
    """An enum literal (``UPDATED_AT``); resolved to its name as a string."""

    name: str


@dataclass
class Field:
    """One selected field. ``selections`` is None for a leaf."""

    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: list[Selection] | None
    line: int
    column: int

    @property
    def key(self) -> str:
        """The key this field's value has in the response (its alias, else its name)."""
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Selection]


@dataclass
class FragmentSpread:
    name: str
    line: int
    column: int


Selection = Field | InlineFragment | FragmentSpread


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    name: str | None
    variable_defaults: dict[str, Any]
    selections: list[Selection]


@dataclass
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, tuple[str, list[Selection]]] = field(default_factory=dict)

    def operation(self, name: str | None = None) -> Operation:
        """The operation to run: the named one, or the only one."""
        if name is not None:
            for op in self.operations:
                if op.name == name:
                    return op
            raise GraphQLSyntaxError(f"No operation named {name!r}", 1, 1)
        if len(self.operations) != 1:
            raise GraphQLSyntaxError("An operation name is required when a document holds several", 1, 1)
        return self.operations[0]


@dataclass(frozen=True)
class _Token:
    kind: str  # "punct", "spread", "name", "int", "float", "string", "eof"
    value: str
    line: int
    column: int


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    i, line, line_start = 0, 1, 0
    length = len(source)
    while i < length:
        char = source[i]
        column = i - line_start + 1
        if char == "\n":
            i, line, line_start = i + 1, line + 1, i + 1
        elif char in " \t\r,\ufeff":
            i += 1
        elif char == "#":
            while i < length and source[i] != "\n":
                i += 1
        elif source.startswith("...", i):
            out.append(_Token("spread", "...", line, column))
            i += 3
        elif char in _PUNCTUATORS:
            out.append(_Token("punct", char, line, column))
            i += 1
        elif source.startswith('"""', i):
            end = source.find('"""', i + 3)
            while end != -1 and source[end - 1] == "\\":
                end = source.find('"""', end + 3)
            if end == -1:
                raise GraphQLSyntaxError("Unterminated block string", line, column)
            raw = source[i + 3 : end].replace('\\"""', '"""')
            out.append(_Token("string", _block_string_value(raw), line, column))
            line += raw.count("\n")
            if "\n" in raw:
                line_start = i + 3 + raw.rfind("\n") + 1
            i = end + 3
        elif char == '"':
            j = i + 1
            while j < length and source[j] != '"':
                if source[j] == "\n":
                    raise GraphQLSyntaxError("Unterminated string", line, column)
                j += 2 if source[j] == "\\" else 1
            if j >= length:
                raise GraphQLSyntaxError("Unterminated string", line, column)
            try:
                value = json.loads(source[i : j + 1])
            except ValueError:
                raise GraphQLSyntaxError("Invalid string escape", line, column) from None
            out.append(_Token("string", value, line, column))
            i = j + 1
        elif (match := _NAME.match(source, i)) is not None:
            out.append(_Token("name", match.group(), line, column))
            i = match.end()
        elif (number := _NUMBER.match(source, i)) is not None and number.group():
            kind = "float" if number.group(2) or number.group(3) else "int"
            out.append(_Token(kind, number.group(), line, column))
            i = number.end()
        else:
            raise GraphQLSyntaxError(f'Parse error on "{char}"', line, column)
    out.append(_Token("eof", "", line, i - line_start + 1))
    return out


def _block_string_value(raw: str) -> str:
    """The value of a block string: common indentation and blank first/last lines removed (spec 2.9.4)."""
    lines = raw.splitlines()
    indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines[1:] if ln.strip()]
    common = min(indents) if indents else 0
    body = [lines[0], *(ln[common:] for ln in lines[1:])] if lines else []
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.pos = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    def fail(self, token: _Token | None = None) -> GraphQLSyntaxError:
        tok = token or self.token
        shown = "end of file" if tok.kind == "eof" else tok.value
        kind = {"punct": "PUNCTUATOR", "name": "IDENTIFIER", "eof": "EOF"}.get(tok.kind, tok.kind.upper())
        return GraphQLSyntaxError(
            f'Parse error on "{shown}" ({kind}) at [{tok.line}, {tok.column}]', tok.line, tok.column
        )

    def peek(self, kind: str, value: str | None = None) -> bool:
        tok = self.token
        return tok.kind == kind and (value is None or tok.value == value)

    def expect(self, kind: str, value: str | None = None) -> _Token:
        if not self.peek(kind, value):
            raise self.fail()
        tok = self.token
        self.pos += 1
        return tok

    def skip(self, kind: str, value: str | None = None) -> bool:
        if self.peek(kind, value):
            self.pos += 1
            return True
        return False

    def document(self) -> Document:
        doc = Document()
        while not self.peek("eof"):
            if self.peek("punct", "{"):
                doc.operations.append(Operation("query", None, {}, self.selection_set()))
            elif self.peek("name", "fragment"):
                self.pos += 1
                fragment = self.expect("name").value
                self.expect("name", "on")
                type_condition = self.expect("name").value
                self.directives()
                doc.fragments[fragment] = (type_condition, self.selection_set())
            elif self.peek("name", "query") or self.peek("name", "mutation"):
                kind = self.expect("name").value
                name = self.expect("name").value if self.peek("name") else None
                defaults = self.variable_definitions() if self.peek("punct", "(") else {}
                self.directives()
                doc.operations.append(Operation(kind, name, defaults, self.selection_set()))
            else:
                raise self.fail()
        if not doc.operations:
            raise self.fail()
        return doc

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        self.expect("punct", "(")
        while not self.skip("punct", ")"):
            self.expect("punct", "$")
            name = self.expect("name").value
            self.expect("punct", ":")
            self.type_reference()
            if self.skip("punct", "="):
                defaults[name] = self.value(const=True)
            self.directives()
        return defaults

    def type_reference(self) -> None:
        if self.skip("punct", "["):
            self.type_reference()
            self.expect("punct", "]")
        else:
            self.expect("name")
        self.skip("punct", "!")

    def directives(self) -> None:
        while self.skip("punct", "@"):
            self.expect("name")
            if self.peek("punct", "("):
                self.arguments()

    def selection_set(self) -> list[Selection]:
        self.expect("punct", "{")
        selections: list[Selection] = []
        while not self.skip("punct", "}"):
            if self.peek("spread"):
                spread = self.expect("spread")
                if self.peek("name") and self.token.value != "on":
                    selections.append(FragmentSpread(self.expect("name").value, spread.line, spread.column))
                    self.directives()
                    continue
                condition = None
                if self.skip("name", "on"):
                    condition = self.expect("name").value
                self.directives()
                selections.append(InlineFragment(condition, self.selection_set()))
            else:
                selections.append(self.field())
        if not selections:
            raise self.fail()
        return selections

    def field(self) -> Field:
        first = self.expect("name")
        alias, name = None, first.value
        if self.skip("punct", ":"):
            alias, name = first.value, self.expect("name").value
        arguments = self.arguments() if self.peek("punct", "(") else {}
        self.directives()
        selections = self.selection_set() if self.peek("punct", "{") else None
        return Field(name, alias, arguments, selections, first.line, first.column)

    def arguments(self) -> dict[str, Any]:
        self.expect("punct", "(")
        out: dict[str, Any] = {}
        while not self.skip("punct", ")"):
            name = self.expect("name").value
            self.expect("punct", ":")
            out[name] = self.value(const=False)
        return out

    def value(self, *, const: bool) -> Any:
        tok = self.token
        if tok.kind == "punct" and tok.value == "$" and not const:
            self.pos += 1
            return Variable(self.expect("name").value)
        if tok.kind == "int":
            self.pos += 1
            return int(tok.value)
        if tok.kind == "float":
            self.pos += 1
            return float(tok.value)
        if tok.kind == "string":
            self.pos += 1
            return tok.value
        if tok.kind == "name":
            self.pos += 1
            return {"true": True, "false": False, "null": None}.get(tok.value, EnumValue(tok.value))
        if self.skip("punct", "["):
            items = []
            while not self.skip("punct", "]"):
                items.append(self.value(const=const))
            return items
        if self.skip("punct", "{"):
            obj: dict[str, Any] = {}
            while not self.skip("punct", "}"):
                key = self.expect("name").value
                self.expect("punct", ":")
                obj[key] = self.value(const=const)
            return obj
        raise self.fail()


def parse(source: str) -> Document:
    """Parse an executable GraphQL document, or raise GraphQLSyntaxError with its position."""
    return _Parser(source).document()


def resolve_value(value: Any, variables: dict[str, Any]) -> Any:
    """An argument value with its variables replaced and enums turned into their names."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [resolve_value(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve_value(v, variables) for k, v in value.items()}
    return value


def expand(
    selections: list[Selection], type_name: str, fragments: dict[str, tuple[str, list[Selection]]]
) -> list[Field]:
    """The fields selected on an object of ``type_name``, fragments applied by type condition."""
    out: list[Field] = []
    for selection in selections:
        if isinstance(selection, Field):
            out.append(selection)
        elif isinstance(selection, InlineFragment):
            if selection.type_condition in (None, type_name):
                out.extend(expand(selection.selections, type_name, fragments))
        else:
            found = fragments.get(selection.name)
            if found is None:
                raise GraphQLSyntaxError(
                    f"Fragment {selection.name} was used, but not defined", selection.line, selection.column
                )
            condition, inner = found
            if condition == type_name:
                out.extend(expand(inner, type_name, fragments))
    return out


__all__ = [
    "Document",
    "EnumValue",
    "Field",
    "FragmentSpread",
    "GraphQLSyntaxError",
    "InlineFragment",
    "Operation",
    "Selection",
    "Variable",
    "expand",
    "parse",
    "resolve_value",
]
