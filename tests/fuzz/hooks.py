"""Schemathesis hooks for PANDA, loaded by the CLI through ``SCHEMATHESIS_HOOKS=tests.fuzz.hooks``.

- ``map_case``: half the schema-valid requests of the coverage and fuzzing phases address a
  seeded record (the file named by ``PANDA_FUZZ_SEEDED``) instead of a random identifier that
  names nothing.
- ``refused_only_by_value_rules``: stands in for the default "schema-valid data is accepted",
  which cannot hold as it is: JSON Schema does not carry a checksum, a date relative to today or
  "this patient exists", so PANDA rightly refuses some schema-valid requests with 400. The check
  keeps what that rule is for: a schema-valid request may be refused by such a value rule only,
  never for its structure (a type, a missing or unknown field, the body's shape).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from typing import Any

import schemathesis

SEEDED_ENV = "PANDA_FUZZ_SEEDED"
# Refusals about a request's structure, which the schema describes in full.
STRUCTURAL_CODES = frozenset(
    {
        "field.type",
        "field.unknown",
        "field.required",
        "body.malformed_json",
        "body.not_object",
        "query.limit",
        "query.offset",
        "query.invalid",
    }
)


@cache
def seeded() -> dict[str, list[str]]:
    """Pools of existing identifiers per path parameter; ``spare_*`` pools are for DELETE to consume."""
    path = os.environ.get(SEEDED_ENV)
    if not path:
        return {}
    with open(path, encoding="utf-8") as file:
        return dict(json.load(file))


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Swap a generated identifier for a seeded one, chosen from the generated value (so reproducible).

    Stateful sequences are left alone: their identifiers come from the responses before them.
    """
    if not case.path_parameters or case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.meta.phase.name == "stateful":
        return case
    prefix = "spare_" if case.method.upper() == "DELETE" else ""
    for name, value in list(case.path_parameters.items()):
        pool = seeded().get(prefix + name)
        digest = int(hashlib.sha256(repr(value).encode()).hexdigest(), 16)
        if pool and digest % 2 == 0:
            case.path_parameters[name] = pool[digest // 2 % len(pool)]
    return case


@schemathesis.check
def refused_only_by_value_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request answered 400 names only rules the schema cannot express."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    problem = response.json()
    codes = {error["code"] for error in problem.get("errors", [])} or {problem.get("code")}
    structural = {code for code in codes if code in STRUCTURAL_CODES or str(code).endswith(".type")}
    if structural:
        raise AssertionError(f"A schema-valid request was refused for its structure: {sorted(structural)}")
    return True
