"""The OpenAPI document: the problem responses every API operation can give.

FastAPI documents only the success response and its own 422. Mend answers every refusal with RFC 9457
problem details (see `main.problem`), so each operation declares those too, derived from what the
document already says of it: whether it needs a sign-in (its `security`), whether its path names
records, whether it writes. A new route is described the same way without anyone remembering to.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ProblemCondition(BaseModel):
    """One unmet condition of a refused gate."""

    code: str = Field(description="Stable code, e.g. screening_missing.")
    message: str
    participant_id: int | None = None


class ProblemFieldError(BaseModel):
    """One part of the request that was malformed or broke a rule."""

    field: str
    message: str
    location: str | None = Field(default=None, description="body, query, path, header or cookie.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="urn:mend:problem:<slug>, stable per kind of problem.")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in plain words.")
    instance: str = Field(description="The path that was asked for.")
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")
    conditions: list[ProblemCondition] | None = Field(default=None, description="A refused gate's unmet conditions.")
    errors: list[ProblemFieldError] | None = Field(default=None, description="Each malformed or refused field.")


PROBLEMS = {
    "401": "Not signed in: no valid access token or session (portal: no live portal session).",
    "403": "Signed in, but your role may not do this; or a cookie-authenticated write without its CSRF token.",
    "404": "No such record, or not one you may see (other programs' and other cases' records are 404 too).",
    "409": "Refused by a gate or by the record's current state; `conditions` lists each unmet condition.",
    "413": "The request body is larger than the server accepts (MEND_MAX_BODY_BYTES, 1 MiB by default).",
    "422": "Malformed request, or input that breaks a rule only the server can check; `errors` lists each field.",
}


def _problem_codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The refusals an operation can give: those its route declares, and those that follow from its shape."""
    security = operation.get("security", [])
    names_record = "{" in path or any(
        p["in"] == "query" and p["name"].endswith("_id") for p in operation.get("parameters", [])
    )
    codes = {code for code in operation["responses"] if code in PROBLEMS}
    if "requestBody" in operation:
        codes |= {"413", "422"}
    if security:
        codes |= {"401", "403"}
    if names_record or any("PortalSession" in requirement for requirement in security):
        codes.add("404")
    if method.upper() not in SAFE_METHODS:
        codes.add("409")
    return sorted(codes)


def describe_api(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem responses to FastAPI's document, in place of its own 422."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}) | {"Problem": problem_schema})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _problem_codes(path, method, operation):
                # A route may say why it refuses (responses={409: ...}); FastAPI's own 422 text is replaced.
                description = responses.get(code, {}).get("description") if code != "422" else None
                responses[code] = {"description": description or PROBLEMS[code], "content": content}
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the described document at the app's openapi_url, built once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_api(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
