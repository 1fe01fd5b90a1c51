"""Check sandbox traffic against the vendors' published API specs.

The sandboxes that stand in for HubSpot, Mailchimp, Klaviyo, Stripe and Shopify are only useful if
they answer like the real services. Tests therefore validate every sandbox response (and every JSON
request a connector sends) against the vendor's OpenAPI document, and every Shopify GraphQL document
(and the ``data`` a sandbox answers with) against Shopify's Admin schema::

    spec = OpenApiSpec.load("hubspot-crm-contacts-v3.json.gz")
    spec.validate_httpx(response.request, response)          # raises SpecViolation

    shopify = GraphQLSchema.load()
    shopify.validate(query, variables)
    shopify.validate_result(query, body["data"], variables)

The specs live, gzipped and as published, in ``specs/`` at the repository root (see its README).
Loads are cached per process: the Shopify SDL (3.4 MB) takes about two seconds to build.

Adjustments made to the published documents at load time, each because the document as published
cannot be validated against as its authors meant (see ``_normalise``):

* OpenAPI 3.0 ``nullable: true`` next to ``$ref``/``allOf``/``oneOf``/``anyOf`` and no ``type``
  (Klaviyo, 77 places; Stripe, 421) is rewritten to ``anyOf: [<schema>, null]``. A validator
  applies ``nullable`` only together with ``type``, so these documented-nullable values (Stripe's
  ``customer.address``, Klaviyo's ``subscriptions``) would otherwise be rejected when null.
* ``nullable: true`` next to an ``enum`` that does not list null (Stripe, 137 places: ``invoice.
  automatic_tax.status``; Klaviyo, 12) gets null added to the enum: the ``enum`` keyword is checked on
  its own, so the documented-nullable value would otherwise fail as "None is not one of [...]".
* A ``discriminator`` without a ``mapping`` over inline (non-``$ref``) alternatives (Mailchimp,
  50 places: segment conditions, activity types; converted from Swagger 2) is dropped: the implicit mapping
  names ``#/components/schemas/<value>``, which does not exist, so every such value would fail.
  The ``oneOf`` itself is still validated.
* HubSpot's CRM objects (``SimplePublicObject`` and the other answers' object schemas) type every
  property value as a string, while the API answers a requested property that is unset as ``null``
  (hubspot-api-client's models type the values ``Optional``): in answers (schemas whose name has no
  ``Input``) property values may be null. Requests still may not send null.
* The Shopify SDL declares four implementation fields deprecated whose interface fields are not
  (``Customer.hasTimelineComment``, ``DiscountAutomaticBxgy.id``, ``MediaImage.metafield(s)``);
  graphql-core 3.3 rejects the whole schema for that, so those fields are un-deprecated.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import graphql
import httpx
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from profilesync.resources import resource

__all__ = ["SPEC_DIR", "GraphQLSchema", "OpenApiSpec", "SpecViolation"]

SPEC_DIR: Path = resource("specs")
"""The gzipped vendor specs: ``specs/`` at the repository root, or the installed package's copy."""

_MAX_REPORTED = 3  # OpenAPI errors quoted in a SpecViolation
_MAX_GRAPHQL_REPORTED = 10
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Keys whose values are data, not schemas: never rewritten by _normalise.
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})


class SpecViolation(AssertionError):  # noqa: N818 (the name says what it is)
    """Traffic that does not match the vendor's published spec (an ``AssertionError``, so pytest
    reports it as a failed check)."""


# --- OpenAPI -----------------------------------------------------------------------------------------


def _spec_path(filename: str) -> Path:
    """Resolve ``filename`` in ``SPEC_DIR``, accepting the name with or without ``.gz``."""
    path = SPEC_DIR / filename
    if not path.exists() and not filename.endswith(".gz") and path.with_name(path.name + ".gz").exists():
        path = path.with_name(path.name + ".gz")
    if not path.exists():
        raise FileNotFoundError(f"no spec {filename!r} in {SPEC_DIR}")
    return path


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def _escape(token: str) -> str:
    """A JSON-pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _is_json_media_type(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base in {"application/json", "*/*"} or base.endswith("+json")


def _json_media_type(content: dict[str, Any]) -> str | None:
    """The media type whose schema describes a JSON body: ``application/json`` first, then any
    ``+json`` type (``application/vnd.api+json``, ``application/problem+json``), then ``*/*``."""
    ranked = sorted(
        (mt for mt in content if _is_json_media_type(mt)),
        key=lambda mt: (mt.split(";", 1)[0].strip().lower() != "application/json", "*" in mt),
    )
    return ranked[0] if ranked else None


def _normalise(node: Any) -> None:
    """Rewrite, in place, the constructs of the published specs that validators misread (see the module
    docstring): typeless ``nullable``, nullable enums without null, mapping-less discriminators over
    inline schemas."""
    if isinstance(node, list):
        for item in node:
            _normalise(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in {"properties", "patternProperties"} and isinstance(value, dict):
            for schema in value.values():  # property names ("default", "enum") are not keywords here
                _normalise(schema)
        elif key not in _DATA_KEYS and not key.startswith("x-"):
            _normalise(value)
    discriminator = node.get("discriminator")
    if discriminator is not None:
        alternatives = node.get("oneOf") or node.get("anyOf") or node.get("allOf") or []
        if not isinstance(discriminator, dict) or (
            "mapping" not in discriminator
            and any(not (isinstance(alt, dict) and "$ref" in alt) for alt in alternatives)
        ):
            del node["discriminator"]
    enum = node.get("enum")
    if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
        node["enum"] = [*enum, None]
    if node.get("nullable") is True and "type" not in node:
        schema = {k: v for k, v in node.items() if k != "nullable"}
        if any(k in schema for k in ("$ref", "allOf", "oneOf", "anyOf", "not")):
            annotations = {k: v for k, v in node.items() if k in ("description", "title")}
            node.clear()
            node.update(annotations)
            node["anyOf"] = [schema, {"enum": [None]}]


def _hubspot_null_property_values(document: dict[str, Any]) -> None:
    """Let HubSpot's answered objects carry null property values (see the module docstring)."""
    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        values = ((schema.get("properties") or {}).get("properties") or {}).get("additionalProperties")
        if "Input" not in name and isinstance(values, dict) and values.get("type") == "string":
            values["nullable"] = True


def _describe(error: ValidationError) -> str:
    """``$.json.path: what was wrong``, descending into ``oneOf``/``anyOf`` for the likeliest cause."""
    leaf = best_match([error])
    message = leaf.message if len(leaf.message) <= 300 else leaf.message[:297] + "..."
    return f"{leaf.json_path}: {message}"


class OpenApiSpec:
    """One vendor's OpenAPI 3 document, ready to validate requests and responses against.

    ``document`` is the spec as loaded (after ``_normalise``); ``filename`` names it in messages.
    """

    def __init__(self, filename: str, document: dict[str, Any]) -> None:
        version = str(document.get("openapi", ""))
        if not version.startswith("3."):
            raise ValueError(f"{filename} is not an OpenAPI 3 document (openapi={version!r})")
        self.filename = filename
        self.document = document
        self._oas31 = version.startswith("3.1")
        if not self._oas31:
            _normalise(document.get("paths"))
            _normalise(document.get("components"))
        if filename.startswith("hubspot-crm-"):
            _hubspot_null_property_values(document)
        self._uri = f"https://profilesync.invalid/specs/{quote(filename)}"
        specification = DRAFT202012 if self._oas31 else DRAFT4
        self._registry: Registry[Any] = Registry().with_resource(
            self._uri, specification.create_resource(document)
        )
        # Paths in the spec are relative to the server URL's path (Mailchimp: ".../3.0").
        self._base_paths = sorted(
            {
                urlparse(str(server.get("url", ""))).path.rstrip("/")
                for server in document.get("servers") or []
                if isinstance(server, dict)
            }
            - {""},
            key=len,
            reverse=True,
        )
        self._templates: dict[int, list[tuple[str, list[re.Pattern[str]], tuple[int, ...]]]] = {}
        for template in document.get("paths") or {}:
            segments = template.strip("/").split("/") if template.strip("/") else []
            patterns = [
                re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in _pieces(s)) + "$")
                for s in segments
            ]
            score = tuple(int("{" in s) for s in segments)
            self._templates.setdefault(len(segments), []).append((template, patterns, score))

    @classmethod
    def load(cls, filename: str) -> OpenApiSpec:
        """The spec ``SPEC_DIR/filename`` (``.gz`` optional), read and parsed once per process."""
        return _load_openapi(_spec_path(filename).name)

    def __repr__(self) -> str:
        return f"OpenApiSpec({self.filename!r})"

    # -- matching ------------------------------------------------------------------------------------

    def _match(self, path: str) -> str | None:
        path = path.split("?", 1)[0]
        candidates = [
            path[len(base) :] or "/"
            for base in self._base_paths
            if path == base or path.startswith(base + "/")
        ]
        for candidate in [*candidates, path]:
            stripped = candidate.strip("/")
            segments = stripped.split("/") if stripped else []
            matches = [
                (score, template)
                for template, patterns, score in self._templates.get(len(segments), [])
                if all(p.match(seg) for p, seg in zip(patterns, segments, strict=True))
            ]
            if matches:
                return min(matches)[1]
        return None

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The path template and operation object serving ``method path``.

        ``path`` is concrete (``/crm/v3/objects/contacts/123``), with or without the server URL's
        base path (``/3.0/lists/abc/members`` for Mailchimp). Literal segments win over templated
        ones, as OpenAPI requires: ``/contacts/batch/upsert`` is that path, not ``/contacts/{id}``.
        """
        template = self._match(path)
        if template is None:
            raise SpecViolation(
                f"{self.filename}: {method.upper()} {path}: the sandbox serves a path the vendor does not"
                " document"
            )
        item = self.document["paths"][template]
        operation = item.get(method.lower())
        if not isinstance(operation, dict):
            documented = ", ".join(sorted(m.upper() for m in item if m in _HTTP_METHODS))
            raise SpecViolation(
                f"{self.filename}: {method.upper()} {path}: the vendor documents {template} for "
                f"{documented or 'no method'}, not {method.upper()}"
            )
        return template, operation

    # -- validation ----------------------------------------------------------------------------------

    def _deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow local ``$ref``s from ``node`` (found at ``pointer``); returns the target and its pointer."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = str(node["$ref"])
            if not ref.startswith("#") or ref in seen:
                raise SpecViolation(f"{self.filename}: unsupported or circular $ref {ref!r} at {pointer}")
            seen.add(ref)
            pointer = unquote(ref[1:])
            node = self.document
            for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
                token = token.replace("~1", "/").replace("~0", "~")
                try:
                    node = node[int(token)] if isinstance(node, list) else node[token]
                except (KeyError, IndexError, ValueError, TypeError):
                    raise SpecViolation(f"{self.filename}: broken $ref {ref!r}") from None
        return node, pointer

    def _check(self, pointer: str, body: Any, context: str) -> None:
        """Validate ``body`` against the schema at ``pointer`` in the document."""
        validator_cls = OAS31Validator if self._oas31 else OAS30Validator
        validator = validator_cls(
            {"$ref": f"{self._uri}#{quote(pointer, safe='/~')}"},
            registry=self._registry,
            format_checker=validator_cls.FORMAT_CHECKER,
        )
        errors = list(itertools.islice(validator.iter_errors(body), 1000))
        if errors:
            count = f"{len(errors)}{'+' if len(errors) == 1000 else ''}"
            shown = "\n".join(f"  - {_describe(e)}" for e in errors[:_MAX_REPORTED])
            raise SpecViolation(
                f"{self.filename}: {context} does not match the vendor spec ({count} error(s)):\n{shown}"
            )

    def validate_response(self, method: str, path: str, status: int, body: Any) -> None:
        """Check that answering ``method path`` with ``status`` and the JSON ``body`` is documented.

        The response is looked up by exact status, then range (``2XX``), then ``default``; a status
        the operation does not document is a violation. ``body=None`` stands for "no body" when the
        spec documents none for the status.
        """
        self._validate_response(method, path, status, body, has_body=body is not None)

    def _validate_response(self, method: str, path: str, status: int, body: Any, *, has_body: bool) -> None:
        template, operation = self.operation(method, path)
        context = f"{method.upper()} {path} (template {template}) -> {status}"
        responses: dict[str, Any] = operation.get("responses") or {}
        keys = (str(status), f"{status // 100}XX", f"{status // 100}xx", "default")
        key = next((k for k in keys if k in responses), None)
        if key is None:
            raise SpecViolation(
                f"{self.filename}: {context}: status {status} is not documented (documented: "
                f"{', '.join(responses) or 'none'})"
            )
        op_pointer = f"/paths/{_escape(template)}/{method.lower()}"
        response, pointer = self._deref(responses[key], f"{op_pointer}/responses/{_escape(key)}")
        content: dict[str, Any] = response.get("content") or {}
        if not content:
            if has_body:
                raise SpecViolation(
                    f"{self.filename}: {context}: the spec documents no body, got {body!r:.200}"
                )
            return
        media_type = _json_media_type(content)
        if media_type is None:
            raise SpecViolation(
                f"{self.filename}: {context}: the spec documents no JSON body "
                f"(media types: {', '.join(content)})"
            )
        if not has_body:
            raise SpecViolation(f"{self.filename}: {context}: empty body, the spec documents {media_type}")
        if "schema" in content[media_type]:
            self._check(f"{pointer}/content/{_escape(media_type)}/schema", body, f"{context} body")

    def validate_request(self, method: str, path: str, body: Any) -> None:
        """Check a JSON request body a connector sends for ``method path`` (``None``: no body)."""
        template, operation = self.operation(method, path)
        context = f"{method.upper()} {path} (template {template}) request"
        pointer = f"/paths/{_escape(template)}/{method.lower()}/requestBody"
        if "requestBody" not in operation:
            if body is not None:
                raise SpecViolation(f"{self.filename}: {context}: the operation takes no request body")
            return
        request_body, pointer = self._deref(operation["requestBody"], pointer)
        if body is None:
            if request_body.get("required"):
                raise SpecViolation(f"{self.filename}: {context}: the request body is required")
            return
        content: dict[str, Any] = request_body.get("content") or {}
        media_type = _json_media_type(content)
        if media_type is None:
            raise SpecViolation(
                f"{self.filename}: {context}: the operation takes no JSON body (media types: "
                f"{', '.join(content) or 'none'})"
            )
        if "schema" in content[media_type]:
            self._check(f"{pointer}/content/{_escape(media_type)}/schema", body, f"{context} body")

    def validate_httpx(
        self, request: httpx.Request, response: httpx.Response, *, check_request: bool = True
    ) -> None:
        """Validate an exchange: the response always, the request body too when it was sent as JSON.

        An empty response body passes only if the spec documents no content for the status.
        """
        method, path = request.method, request.url.path
        if check_request and _is_json_media_type(request.headers.get("content-type", "")):
            raw = request.content
            self.validate_request(method, path, json.loads(raw) if raw else None)
        if not response.content:
            self._validate_response(method, path, response.status_code, None, has_body=False)
            return
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise SpecViolation(
                f"{self.filename}: {method} {path} -> {response.status_code}: the body is not JSON ({exc})"
            ) from None
        self._validate_response(method, path, response.status_code, body, has_body=True)


def _pieces(segment: str) -> list[str]:
    """A path segment split into literal and ``{param}`` pieces: ``{id}.json`` -> ``{id}``, ``.json``."""
    return [p for p in re.split(r"(\{[^}]*\})", segment) if p]


@functools.cache
def _load_openapi(name: str) -> OpenApiSpec:
    return OpenApiSpec(name, json.loads(_read_text(_spec_path(name))))


# --- GraphQL -----------------------------------------------------------------------------------------

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
    """Un-deprecate implementation fields whose interface field is not deprecated (see module docstring)."""
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
