"""Several services' OpenAPI documents as one: their public paths, and their schemas under
one `components` (a name two services give different schemas is prefixed by service)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.identity import OPS_PATHS

SCHEMA_REF = "#/components/schemas/"
INTERNAL_PREFIX = "/internal/"

Document = dict[str, Any]


class MergeConflict(ValueError):
    """Two services document the same operation, or a prefixed schema name is taken."""


def is_public_path(path: str) -> bool:
    """The gateway never routes /internal/* nor a backend's ops routes to a client."""
    return not path.startswith(INTERNAL_PREFIX) and path not in OPS_PATHS


def merge(documents: Mapping[str, Document]) -> Document:
    """`paths` and `components.schemas` of the documents, keyed by service name."""
    renames = _renames(documents)
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for service, document in documents.items():
        renamed = renames[service]
        for path, item in _rewrite_refs(document.get("paths", {}), renamed).items():
            if not is_public_path(path):
                continue
            merged = paths.setdefault(path, {})
            for method, operation in item.items():
                if method in merged:
                    raise MergeConflict(f"{method.upper()} {path} is documented twice")
                merged[method] = operation
        for name, schema in _schemas(document).items():
            schemas[renamed.get(name, name)] = _rewrite_refs(schema, renamed)
    return {"paths": paths, "components": {"schemas": schemas}}


def _schemas(document: Document) -> dict[str, Any]:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    return schemas


def _prefixed(service: str, name: str) -> str:
    return "".join(part.capitalize() for part in service.split("-")) + name


def _renames(documents: Mapping[str, Document]) -> dict[str, dict[str, str]]:
    """Per service, its schema names that must be prefixed: those another service defines
    differently. Comparing after renaming (until nothing changes) catches a schema that
    differs only by referring to a schema that was renamed."""
    owners: dict[str, list[str]] = {}
    for service, document in documents.items():
        for name in _schemas(document):
            owners.setdefault(name, []).append(service)
    renamed: set[str] = set()
    while True:
        renames = {
            service: {name: _prefixed(service, name) for name in renamed if service in owners[name]}
            for service in documents
        }
        differing = {
            name
            for name, services in owners.items()
            if len(services) > 1
            and name not in renamed
            and not _alike(name, {s: documents[s] for s in services}, renames)
        }
        if not differing:
            break
        renamed |= differing
    for service, mapping in renames.items():
        for new_name in mapping.values():
            if new_name in owners:
                raise MergeConflict(f"{service}'s schema cannot be renamed {new_name}: it exists")
    return renames


def _alike(
    name: str, documents: Mapping[str, Document], renames: Mapping[str, Mapping[str, str]]
) -> bool:
    """Whether every one of `documents` defines schema `name` the same way."""
    forms = {
        json.dumps(_rewrite_refs(_schemas(document)[name], renames[service]), sort_keys=True)
        for service, document in documents.items()
    }
    return len(forms) == 1


def _rewrite_refs(value: Any, renamed: Mapping[str, str]) -> Any:
    """A copy of `value` whose schema references follow `renamed`."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        copy = {key: _rewrite_refs(item, renamed) for key, item in value.items()}
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
            name = ref.removeprefix(SCHEMA_REF)
            copy["$ref"] = SCHEMA_REF + renamed.get(name, name)
        return copy
    if isinstance(value, list):
        return [_rewrite_refs(item, renamed) for item in value]
    return value


def referenced_schemas(document: Document) -> set[str]:
    """The schema names `document` uses outside `components.schemas`, directly or through
    other schemas."""
    schemas = document["components"]["schemas"]
    found: set[str] = set()
    pending: list[Any] = [
        {key: value for key, value in document.items() if key != "components"},
        {key: value for key, value in document["components"].items() if key != "schemas"},
    ]
    while pending:
        for name in _refs_in(pending.pop()):
            if name not in found and name in schemas:
                found.add(name)
                pending.append(schemas[name])
    return found


def _refs_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        own = {ref.removeprefix(SCHEMA_REF)} if isinstance(ref, str) else set()
        return own.union(*(_refs_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs_in(item) for item in value))
    return set()
