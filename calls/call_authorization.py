"""`authorize_call`: the check every per-call route makes first (the instance id's shape, then the call's token
in constant time), before any body is read."""

from __future__ import annotations

import azure.functions as func

from calls import app_context
from calls.http_responses import json_response
from shared.call_token import is_valid_instance_id, verify_call_token


def authorize_call(req: func.HttpRequest) -> tuple[str, func.HttpResponse | None]:
    """The instance id from the route, or the 4xx response that refuses the request."""
    instance_id = req.route_params.get("instanceId", "")
    if not is_valid_instance_id(instance_id):
        return instance_id, json_response(400, {"error": "bad_request", "message": "invalid instance id",
                                                "path": "instanceId"})
    if not verify_call_token(app_context.settings().call_token_secret, instance_id, req.params.get("token")):
        return instance_id, json_response(401, {"error": "unauthorized", "message": "invalid call token",
                                                "path": "token"})
    return instance_id, None
