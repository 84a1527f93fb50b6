"""JSON responses for the HTTP functions, and reading a request body as untrusted JSON."""

from __future__ import annotations

import json

import azure.functions as func

from shared.json_body import BadRequest, load_json_body


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json",
                             headers=headers or {})


def error_response(error: BadRequest) -> func.HttpResponse:
    return json_response(error.status, error.to_json())


def read_json(req: func.HttpRequest) -> object:
    """The request body as JSON, or `BadRequest` (size, content type, encoding, syntax, depth)."""
    return load_json_body(req.get_body() or b"", req.headers.get("content-type"))
