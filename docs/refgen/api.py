"""The HTTP API reference: every operation of the OpenAPI document, with the scope it
needs, its parameters, request body and answers, then every schema they use."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from refgen.markdown import code, table

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_REF = "#/components/schemas/"


def operation_id(method: str, path: str) -> str:
    """The anchor of an operation: ``get-api-docker-ps``."""
    return re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")


def schema_id(name: str) -> str:
    return "schema-" + re.sub(r"[^A-Za-z0-9_]+", "-", name)


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(METHOD, path, operation)`` in the document's order."""
    for path, item in openapi["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def page(openapi: dict[str, Any], scopes: dict[tuple[str, str], str]) -> str:
    lines = [
        "# HTTP API",
        "",
        f"Every operation of SkyPort {openapi['info']['version']} with the plugins installed "
        "where this site was built, generated from the OpenAPI document the server serves at "
        "`/schema` (browse it live at `/schema/swagger`). Send the session token as "
        "`Authorization: Bearer …` (or log in from a browser: the HttpOnly cookie plus the "
        "`X-CSRF-Token` header for changes). Each operation needs the scope it names; every "
        "error answer has the shape [`Error`](#schema-Error).",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in operations(openapi):
        by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    for tag, ops in by_tag.items():
        lines += [f"## {tag}", ""]
        for method, path, op in ops:
            lines += operation(method, path, op, scopes.get((method, path), ""))
    lines += ["## Schemas", ""]
    for name, schema in openapi["components"]["schemas"].items():
        lines += schema_section(name, schema)
    return "\n".join(lines)


def operation(method: str, path: str, op: dict[str, Any], scope: str) -> list[str]:
    lines = [f"### {code(f'{method} {path}')} {{#{operation_id(method, path)}}}", ""]
    if op.get("summary"):
        lines += [op["summary"] + ".", ""]
    if op.get("description"):
        lines += [op["description"], ""]
    needs = f"scope {code(scope)}" if scope else "no login (public)"
    lines += [f"**Needs:** {needs}", ""]
    if parameters := op.get("parameters"):
        lines += [
            table(
                ("parameter", "in", "type", "required", "description"),
                (
                    (
                        code(p["name"]),
                        p["in"],
                        type_of(p.get("schema", {})),
                        "yes" if p.get("required") else "no",
                        p.get("description", ""),
                    )
                    for p in parameters
                ),
            )
        ]
    if body := op.get("requestBody"):
        for media, content in body.get("content", {}).items():
            lines += [f"**Request body** ({code(media)}): {type_of(content.get('schema', {}))}", ""]
    lines += responses(op.get("responses", {}))
    return lines


def responses(answers: dict[str, Any]) -> list[str]:
    lines = []
    errors = []
    for status, answer in answers.items():
        if status.startswith(("2", "3")):
            content = answer.get("content", {})
            shapes = [type_of(c.get("schema", {})) for c in content.values()]
            shown = f"{', '.join(shapes)}" if shapes else "no body"
            lines.append(f"**{status}**: {shown}. {answer.get('description', '')}")
            lines.append("")
        else:
            errors.append(f"{status} {answer.get('description', '')}".strip())
    if errors:
        lines += ['??? note "Errors"', ""]
        lines += [f"    - {error}" for error in errors]
        lines.append("")
    return lines


def schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {code(name)} {{#{schema_id(name)}}}", ""]
    if description := schema.get("description"):
        lines += [description, ""]
    properties = schema.get("properties")
    if not properties:
        return [*lines, f"Type: {type_of(schema)}", ""]
    required = set(schema.get("required", ()))
    rows = (
        (
            code(field),
            type_of(spec),
            "yes" if field in required else "no",
            code(json.dumps(spec["default"])) if "default" in spec else "",
            spec.get("description", ""),
        )
        for field, spec in properties.items()
    )
    return [*lines, table(("field", "type", "required", "default", "description"), rows)]


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema in words, with links to named schemas."""
    if ref := schema.get("$ref"):
        name = ref.removeprefix(_REF)
        return f"[{code(name)}](#{schema_id(name)})"
    for combinator in ("oneOf", "anyOf"):
        if options := schema.get(combinator):
            return " or ".join(type_of(option) for option in options)
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    if "enum" in schema:
        return " or ".join(code(json.dumps(value)) for value in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(type_of({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"mapping of string to {type_of(schema['additionalProperties'])}"
    if kind is None:
        return "any"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
