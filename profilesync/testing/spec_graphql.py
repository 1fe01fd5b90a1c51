"""``GraphQLSchema``: GraphQL documents and the ``data`` answered to them checked against a schema
(Shopify's Admin API by default), with the adjustment that profilesync.testing.specs describes.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterable
from typing import Any

import graphql

from profilesync.testing.spec_files import SpecViolation, _read_text, _spec_path

_MAX_GRAPHQL_REPORTED = 10

# How each scalar is serialised in a JSON response. Shopify encodes big and precise numbers as strings
# (BigInt, UnsignedInt64, Decimal, Money); JSON may be any value; unknown custom scalars are unchecked.
_STRING_SCALARS = frozenset(
    {"String", "ID", "DateTime", "Date", "Decimal", "URL", "Money", "HTML", "FormattedString", "Color",
     "ARN", "StorefrontID", "UtcOffset", "BigInt", "UnsignedInt64"}
)  # fmt: skip


def _scalar_ok(name: str, value: Any) -> bool:
    if name in _STRING_SCALARS:
        return isinstance(value, str)
    if name == "Int":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "Boolean":
        return isinstance(value, bool)
    return True


def _undeprecate_inconsistent_fields(schema: graphql.GraphQLSchema) -> None:
    """Un-deprecate implementation fields whose interface field is not deprecated (see testing.specs)."""
    for named in schema.type_map.values():
        if isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
            for interface in named.interfaces:
                for name, interface_field in interface.fields.items():
                    field = named.fields.get(name)
                    if (
                        field is not None
                        and field.deprecation_reason
                        and not interface_field.deprecation_reason
                    ):
                        field.deprecation_reason = None


class GraphQLSchema:
    """A GraphQL schema (Shopify's Admin API by default) to check documents and answers against.

    ``load_seconds`` records how long reading and building the schema took.
    """

    def __init__(self, filename: str, schema: graphql.GraphQLSchema, load_seconds: float) -> None:
        self.filename = filename
        self.schema = schema
        self.load_seconds = load_seconds

    @classmethod
    def load(cls, filename: str = "shopify-admin-2026-01.graphql.gz") -> GraphQLSchema:
        """The SDL ``SPEC_DIR/filename``, built once per process (about 2 s for Shopify's 3.4 MB)."""
        return _load_graphql(_spec_path(filename).name)

    def __repr__(self) -> str:
        return f"GraphQLSchema({self.filename!r})"

    def _operation(
        self, document: str, variables: dict[str, Any] | None
    ) -> tuple[graphql.DocumentNode, graphql.OperationDefinitionNode, dict[str, Any], str]:
        """Parse and validate; returns the document, its operation, coerced variables and a label."""
        try:
            ast = graphql.parse(document)
        except graphql.GraphQLError as exc:
            raise SpecViolation(f"{self.filename}: {exc}") from None
        operation = graphql.get_operation_ast(ast)
        label = (
            f"{operation.operation.value} {operation.name.value if operation.name else '(anonymous)'}"
            if operation
            else "document"
        )
        errors = graphql.validate(self.schema, ast)
        if errors:
            raise SpecViolation(self._errors_message(label, "is not valid against the schema", errors))
        if operation is None:
            raise SpecViolation(f"{self.filename}: the document must hold exactly one operation")
        coerced: dict[str, Any] = {}
        if variables is not None:
            definitions = operation.variable_definitions or ()
            declared = {d.variable.name.value for d in definitions}
            undeclared = sorted(set(variables) - declared)
            if undeclared:
                raise SpecViolation(
                    f"{self.filename}: {label}: variables not declared by the operation: "
                    + ", ".join(f"${name}" for name in undeclared)
                )
            values = graphql.get_variable_values(self.schema, definitions, variables)
            if isinstance(values, list):
                raise SpecViolation(self._errors_message(label, "variables do not coerce", values))
            coerced = values.coerced
        return ast, operation, coerced, label

    def _errors_message(self, label: str, what: str, errors: Iterable[graphql.GraphQLError]) -> str:
        lines = []
        for error in errors:
            where = ", ".join(f"{loc.line}:{loc.column}" for loc in error.locations or ())
            lines.append(f"  - {error.message}" + (f" (at {where})" if where else ""))
        return f"{self.filename}: {label} {what}:\n" + "\n".join(lines)

    def validate(self, document: str, variables: dict[str, Any] | None = None) -> None:
        """Check that ``document`` parses and validates against the schema and, if ``variables`` are
        given, that they are all declared and coerce to the operation's variable types."""
        self._operation(document, variables)

    def validate_result(
        self, document: str, data: dict[str, Any], variables: dict[str, Any] | None = None
    ) -> None:
        """Check that a sandbox's ``data`` has the shape ``document`` asked for.

        Every selected field is present under its response key (aliases honoured) and nothing else is;
        non-null fields are not null; lists are lists; scalars have their JSON kind (String, ID,
        DateTime, Decimal, Money, URL... as str; Int as int; Float as number; Boolean as bool); enums
        are one of their values; fragments and inline fragments apply by type condition. For abstract
        types the runtime type is ``__typename`` if selected, else any possible type that fits.
        """
        ast, operation, coerced, label = self._operation(document, variables)
        root = self.schema.get_root_type(operation.operation)
        assert root is not None  # graphql.validate rejects operations on a missing root type
        walker = _ResultWalker(self.schema, ast, coerced)
        errors = walker.check_object(root, [operation.selection_set], data, "data")
        if errors:
            shown = "\n".join(f"  - {e}" for e in errors[:_MAX_GRAPHQL_REPORTED])
            raise SpecViolation(
                f"{self.filename}: {label}: the result does not have the shape the query asked for "
                f"({len(errors)} error(s)):\n{shown}"
            )


class _ResultWalker:
    """Walk a result alongside the selection sets that produced it, collecting shape errors."""

    def __init__(
        self, schema: graphql.GraphQLSchema, ast: graphql.DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in ast.definitions if isinstance(d, graphql.FragmentDefinitionNode)
        }

    def _included(self, node: graphql.SelectionNode) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in {"skip", "include"}:
                continue
            argument = next((a for a in directive.arguments or () if a.name.value == "if"), None)
            if argument is None:
                continue
            value = argument.value
            if isinstance(value, graphql.VariableNode):
                name = value.name.value
                if name not in self.variables:
                    raise SpecViolation(
                        f"validate_result needs variable ${name} to evaluate @{directive.name.value}"
                    )
                flag = bool(self.variables[name])
            else:
                flag = isinstance(value, graphql.BooleanValueNode) and value.value
            if flag == (directive.name.value == "skip"):
                return False
        return True

    def _applies(self, condition: graphql.NamedTypeNode | None, runtime: graphql.GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is runtime:
            return True
        return isinstance(
            target, graphql.GraphQLInterfaceType | graphql.GraphQLUnionType
        ) and self.schema.is_sub_type(target, runtime)

    def _collect(
        self,
        runtime: graphql.GraphQLObjectType,
        selection_set: graphql.SelectionSetNode,
        fields: dict[str, list[graphql.FieldNode]],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, graphql.FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, graphql.InlineFragmentNode):
                if self._applies(selection.type_condition, runtime):
                    self._collect(runtime, selection.selection_set, fields)
            elif isinstance(selection, graphql.FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                if self._applies(fragment.type_condition, runtime):
                    self._collect(runtime, fragment.selection_set, fields)

    def check_object(
        self,
        runtime: graphql.GraphQLObjectType,
        selection_sets: list[graphql.SelectionSetNode],
        value: dict[str, Any],
        path: str,
    ) -> list[str]:
        """Errors of ``value`` as the answer to ``selection_sets`` on the object type ``runtime``."""
        fields: dict[str, list[graphql.FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(runtime, selection_set, fields)
        errors: list[str] = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if key not in value:
                errors.append(f"{path}.{key}: missing (the query selects {runtime.name}.{name})")
                continue
            if name == "__typename":
                if value[key] != runtime.name:
                    errors.append(f"{path}.{key}: {value[key]!r} is not {runtime.name!r}")
                continue
            if name.startswith("__"):
                continue  # introspection (__schema, __type): not checked
            field = runtime.fields[name]
            sub_sets = [n.selection_set for n in nodes if n.selection_set]
            errors.extend(self._check_value(field.type, sub_sets, value[key], f"{path}.{key}"))
        errors.extend(
            f"{path}.{key}: not selected by the query ({runtime.name} answered a field nobody asked for)"
            for key in value
            if key not in fields
        )
        return errors

    def _check_value(
        self,
        type_: graphql.GraphQLOutputType,
        sub_sets: list[graphql.SelectionSetNode],
        value: Any,
        path: str,
    ) -> list[str]:
        if isinstance(type_, graphql.GraphQLNonNull):
            if value is None:
                return [f"{path}: null, but the field is non-null ({type_})"]
            type_ = type_.of_type
        if value is None:
            return []
        if isinstance(type_, graphql.GraphQLList):
            if not isinstance(value, list):
                return [f"{path}: expected a list ({type_}), got {type(value).__name__}"]
            return list(
                itertools.chain.from_iterable(
                    self._check_value(type_.of_type, sub_sets, item, f"{path}[{i}]")
                    for i, item in enumerate(value)
                )
            )
        if isinstance(type_, graphql.GraphQLScalarType):
            if not _scalar_ok(type_.name, value):
                return [f"{path}: {value!r:.80} is not a JSON value of scalar {type_.name}"]
            return []
        if isinstance(type_, graphql.GraphQLEnumType):
            if value not in type_.values:
                return [f"{path}: {value!r:.80} is not a value of enum {type_.name}"]
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({type_}), got {type(value).__name__}"]
        if isinstance(type_, graphql.GraphQLObjectType):
            return self.check_object(type_, sub_sets, value, path)
        assert isinstance(type_, graphql.GraphQLInterfaceType | graphql.GraphQLUnionType)
        return self._check_abstract(type_, sub_sets, value, path)

    def _check_abstract(
        self,
        type_: graphql.GraphQLInterfaceType | graphql.GraphQLUnionType,
        sub_sets: list[graphql.SelectionSetNode],
        value: dict[str, Any],
        path: str,
    ) -> list[str]:
        possible = self.schema.get_possible_types(type_)
        typename = value.get("__typename")
        if isinstance(typename, str):
            runtime = next((t for t in possible if t.name == typename), None)
            if runtime is None:
                return [f"{path}.__typename: {typename!r} is not a possible type of {type_.name}"]
            return self.check_object(runtime, sub_sets, value, path)
        # No __typename: the value fits if it fits any possible type. Otherwise report the type whose
        # selected keys are closest to the value's keys (then the fewest errors).
        best: tuple[int, int, str, list[str]] | None = None
        for candidate in possible:
            errors = self.check_object(candidate, sub_sets, value, path)
            if not errors:
                return []
            selected: dict[str, list[graphql.FieldNode]] = {}
            for selection_set in sub_sets:
                self._collect(candidate, selection_set, selected)
            rank = (len(set(selected) ^ set(value)), len(errors), candidate.name, errors)
            if best is None or rank[:2] < best[:2]:
                best = rank
        if best is None:
            return [f"{path}: {type_.name} has no possible types"]
        return [f"{e} (as {best[2]}; select __typename to pin the type)" for e in best[3]]


@functools.cache
def _load_graphql(name: str) -> GraphQLSchema:
    started = time.perf_counter()
    schema = graphql.build_schema(_read_text(_spec_path(name)))
    _undeprecate_inconsistent_fields(schema)
    errors = graphql.validate_schema(schema)
    if errors:
        raise ValueError(f"{name} is not a valid GraphQL schema: " + "; ".join(e.message for e in errors[:5]))
    return GraphQLSchema(name, schema, time.perf_counter() - started)
