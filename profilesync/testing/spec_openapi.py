"""``OpenApiSpec``: sandbox requests and answers checked against a vendor's OpenAPI document, with the
adjustments to the published documents that profilesync.testing.specs describes (``_normalise``).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import Any
from urllib.parse import quote, unquote, urlparse

import httpx
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from profilesync.testing.spec_files import SpecViolation, _read_text, _spec_path

_MAX_REPORTED = 3  # OpenAPI errors quoted in a SpecViolation
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Keys whose values are data, not schemas: never rewritten by _normalise.
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})


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
