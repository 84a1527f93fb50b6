"""The app's HTTP-trigger functions behind `/{routePrefix}/...`: key check, request and response mapping."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import azure.functions as func
from aiohttp import web

from .functions import FunctionIndex, HttpFunction, invoke

log = logging.getLogger("dev_host")


def has_key(request: web.Request, key: str) -> bool:
    """`?code=` or `x-functions-key`, compared in constant time."""
    given = request.query.get("code") or request.headers.get("x-functions-key") or ""
    return hmac.compare_digest(given.encode(), key.encode())


async def build_request(request: web.Request, route_params: dict[str, str]) -> func.HttpRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        lower = name.lower()
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        params={name: request.query[name] for name in request.query},
        route_params=route_params,
        body=await request.read(),
    )


def translate_response(result: Any) -> web.Response:
    """The worker's http output converter: an HttpResponse as is, a str as a 200 text body, None as 204."""
    if isinstance(result, func.HttpResponse):
        headers = {name: value for name, value in result.headers.items()}
        if not any(name.lower() == "content-type" for name in headers):
            mimetype = result.mimetype or "text/plain"
            charset = result.charset or "utf-8"
            headers["Content-Type"] = f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype
        return web.Response(status=result.status_code, body=result.get_body() or b"", headers=headers)
    if isinstance(result, str):
        return web.Response(status=200, text=result, content_type="text/plain")
    if result is None:
        return web.Response(status=204)
    raise TypeError(f"unsupported return type for an HTTP function: {type(result).__name__}")


class HttpFunctionsRouter:
    def __init__(self, index: FunctionIndex, *, key: str, executor: Executor,
                 client_binding: Callable[[HttpFunction], str]) -> None:
        self._index = index
        self._key = key
        self._executor = executor
        self._client_binding = client_binding

    async def handle(self, request: web.Request, path: str) -> web.Response:
        matched = self._index.match_http(request.method, path)
        if matched is None:
            return web.Response(status=404)
        function, route_params = matched
        if function.auth_level != "anonymous" and not has_key(request, self._key):
            return web.Response(status=401)
        arguments: dict[str, Any] = {function.trigger_param: await build_request(request, route_params)}
        if function.client_param is not None:
            arguments[function.client_param] = self._client_binding(function)
        try:
            result = await invoke(function.user_function, arguments, function.name, self._executor)
            return translate_response(result)
        except Exception:  # the host answers 500 and logs; the request's details stay out of the log
            log.exception("Executed 'Functions.%s' (Failed)", function.name)
            return web.Response(status=500)
