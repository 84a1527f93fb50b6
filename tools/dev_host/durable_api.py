"""Durable's HTTP API, as the extension's HttpApiHandler serves it, over the engine.

Two mounts share these handlers, as in the real host: the local RPC base (`/durabletask/`, the binding's
`rpcBaseUrl`, what the Python SDK's client calls; loopback only, no key) and the public webhook base
(`/runtime/webhooks/durabletask/`, the management URLs handed to callers; needs the key).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from dateutil.parser import isoparse

from .engine import InstanceExistsError, OrchestrationEngine, UnknownOrchestratorError
from .instance import InstanceQuery, status_payload

log = logging.getLogger("dev_host")

RPC_BASE = "/durabletask/"
DEFAULT_PAGE_SIZE = 100
WEBHOOK_BASE = "/runtime/webhooks/durabletask"
_KNOWN_STATUSES = {"Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated", "Pending",
                   "Suspended"}


def client_binding_json(base_url: str, hub_name: str, key: str, rpc_base_url: str | None = None) -> str:
    """The durable client binding's value, with the keys the SDK's DurableOrchestrationBindings reads."""
    webhook = f"{base_url}{WEBHOOK_BASE}"
    suffix = f"taskHub={quote(hub_name)}&connection=Storage&code={quote(key)}"
    instance = f"{webhook}/instances/INSTANCEID"
    return json.dumps({
        "taskHubName": hub_name,
        "creationUrls": {
            "createNewInstancePostUri": f"{webhook}/orchestrators/{{functionName}}[/{{instanceId}}]?code={quote(key)}",
            "createAndWaitOnNewInstancePostUri": (
                f"{webhook}/orchestrators/{{functionName}}[/{{instanceId}}]"
                f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&code={quote(key)}"),
        },
        "managementUrls": _management_urls(instance, "INSTANCEID", suffix),
        "baseUrl": webhook,
        "requiredQueryStringParameters": f"code={quote(key)}",
        "rpcBaseUrl": f"{rpc_base_url or base_url}{RPC_BASE}",
        "httpBaseUrl": "",
        "maxGrpcMessageSizeInBytes": 0,
        "grpcHttpClientTimeout": "00:01:40",
    })


def _management_urls(instance_prefix: str, instance_id: str, suffix: str) -> dict[str, str]:
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance_prefix}?{suffix}",
        "sendEventPostUri": f"{instance_prefix}/raiseEvent/{{eventName}}?{suffix}",
        "terminatePostUri": f"{instance_prefix}/terminate?reason={{text}}&{suffix}",
        "rewindPostUri": f"{instance_prefix}/rewind?reason={{text}}&{suffix}",
        "purgeHistoryDeleteUri": f"{instance_prefix}?{suffix}",
        "restartPostUri": f"{instance_prefix}/restart?{suffix}",
        "suspendPostUri": f"{instance_prefix}/suspend?reason={{text}}&{suffix}",
        "resumePostUri": f"{instance_prefix}/resume?reason={{text}}&{suffix}",
    }


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def _error(status: int, message: str, exception: str | None = None) -> web.Response:
    body = {"Message": message}
    if exception is not None:
        body["ExceptionMessage"] = exception
    return _json(status, body)


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    if value is None or value.lower() not in ("true", "false"):
        return default  # bool.TryParse semantics: anything else keeps the default
    return value.lower() == "true"


def _time(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    if not value:
        return None
    try:
        moment: datetime = isoparse(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _query(request: web.Request) -> InstanceQuery:
    statuses = frozenset(s for raw in request.query.getall("runtimeStatus", []) for s in raw.split(",")
                         if s in _KNOWN_STATUSES)
    return InstanceQuery(created_from=_time(request, "createdTimeFrom"), created_to=_time(request, "createdTimeTo"),
                         statuses=statuses, instance_id_prefix=request.query.get("instanceIdPrefix"))


class DurableApi:
    def __init__(self, engine: OrchestrationEngine, *, hub_name: str, key: str) -> None:
        self._engine = engine
        self._hub_name = hub_name
        self._key = key

    async def handle(self, request: web.Request, path: str) -> web.Response:
        """`path` is the request path after the base, without slashes at either end."""
        parts = path.split("/") if path else []
        method = request.method
        if len(parts) in (2, 3) and parts[0] == "orchestrators":
            if method != "POST":
                return web.Response(status=404)
            return await self._start(request, parts[1], parts[2] if len(parts) == 3 else "")
        if not parts or parts[0] != "instances":
            return web.Response(status=404)
        if len(parts) == 1 or (len(parts) == 2 and not parts[1]):
            if method == "GET":
                return self._list(request)
            if method == "DELETE":
                return self._purge_where(request)
            return web.Response(status=404)
        instance_id = parts[1]
        if len(parts) == 2:
            if method == "GET":
                return self._status(request, instance_id)
            if method == "DELETE":
                return self._purge(instance_id)
            return web.Response(status=404)
        if len(parts) == 4 and parts[2] == "raiseEvent" and method == "POST":
            return await self._raise(request, instance_id, parts[3])
        if len(parts) == 3 and method == "POST":
            operation = parts[2].lower()
            if operation == "terminate":
                status = self._engine.terminate(instance_id, request.query.get("reason"))
                return web.Response(status=status)
            if operation == "restart":
                return self._restart(request, instance_id)
            if operation in ("suspend", "resume", "rewind"):
                return _error(501, f"{operation} is not supported by the dev host")
        return web.Response(status=404)

    def check_status_response(self, request: web.Request, instance_id: str) -> web.Response:
        """202 with the management URLs, Location and Retry-After (CreateCheckStatusResponse)."""
        base = f"{request.scheme}://{request.host}"
        suffix = f"taskHub={quote(self._hub_name)}&connection=Storage&code={quote(self._key)}"
        prefix = f"{base}{WEBHOOK_BASE}/instances/{quote(instance_id, safe='')}"
        urls = _management_urls(prefix, instance_id, suffix)
        urls.pop("rewindPostUri")
        return _json(202, urls, {"Location": urls["statusQueryGetUri"], "Retry-After": "10"})

    async def _start(self, request: web.Request, name: str, instance_id: str) -> web.Response:
        text = await request.text()
        input_json = text if text else None
        if input_json is not None:
            try:
                json.loads(input_json)
            except ValueError as exc:
                return _error(400, "Invalid JSON content", str(exc))
        instance_id = instance_id or uuid.uuid4().hex
        try:
            self._engine.start(name, instance_id, input_json, request.query.get("version", ""))
        except UnknownOrchestratorError as exc:
            return _error(400, "One or more of the arguments submitted is incorrect", str(exc))
        except InstanceExistsError as exc:
            return _error(409, str(exc))
        return self.check_status_response(request, instance_id)

    def _status(self, request: web.Request, instance_id: str) -> web.Response:
        instance = self._engine.visible(instance_id)
        if instance is None:
            return web.Response(status=404)
        payload = status_payload(instance, show_history=_flag(request, "showHistory", False),
                                 show_history_output=_flag(request, "showHistoryOutput", False),
                                 show_input=_flag(request, "showInput", True))
        if instance.is_running:
            return _json(202, payload, {"Location": str(request.url), "Retry-After": "5"})
        failed_as_500 = _flag(request, "returnInternalServerErrorOnFailure", False)
        return _json(500 if instance.runtime_status == "Failed" and failed_as_500 else 200, payload)

    def _list(self, request: web.Request) -> web.Response:
        # Azure Storage's Instances table answers in PartitionKey (instance id) order, not by creation time.
        matches = sorted(self._engine.query(_query(request)), key=lambda i: i.instance_id)
        show_input = _flag(request, "showInput", True)
        # HttpApiHandler.HandleGetStatusRequestAsync (L485-509): `top` sets the page size, which defaults to 100
        # (OrchestrationStatusQueryCondition.cs L64); the continuation token travels in x-ms-continuation-token
        # both ways, and the response always carries the header (empty on the last page). The token is opaque to
        # callers; here it is simply the offset of the next page.
        token = request.headers.get("x-ms-continuation-token", "")
        start = int(token) if token.isdigit() else 0
        top = request.query.get("top")
        size = int(top) if top and top.isdigit() and int(top) > 0 else DEFAULT_PAGE_SIZE
        page = matches[start:start + size]
        headers = {"x-ms-continuation-token": str(start + size) if start + size < len(matches) else ""}
        body = [status_payload(i, show_history=False, show_history_output=False, show_input=show_input)
                for i in page]
        return _json(200, body, headers)

    def _purge(self, instance_id: str) -> web.Response:
        status = self._engine.purge(instance_id)
        if status == 200:
            return _json(200, {"instancesDeleted": 1})
        if status == 412:
            return _json(412, "Only orchestrations in a terminal state can be purged, but the orchestration with "
                              f"instance ID {instance_id} is still running")
        return web.Response(status=status)

    def _purge_where(self, request: web.Request) -> web.Response:
        query = _query(request)
        if query.created_from is None:
            return _json(400, "Please provide value for 'createdTimeFrom' parameter.")
        if query.created_to is None:
            query = InstanceQuery(query.created_from, datetime.now(UTC), query.statuses, None)
        else:
            query = InstanceQuery(query.created_from, query.created_to, query.statuses, None)
        deleted = self._engine.purge_where(query)
        if deleted == 0:
            return web.Response(status=404)
        return _json(200, {"instancesDeleted": deleted})

    async def _raise(self, request: web.Request, instance_id: str, event_name: str) -> web.Response:
        instance = self._engine.get(instance_id)
        if instance is None:
            return web.Response(status=404)
        if not instance.is_running:
            return web.Response(status=410)
        if request.content_type.lower() != "application/json":
            return _error(400, "Only application/json request content is supported")
        text = await request.text()
        if text:
            try:
                json.loads(text)
            except ValueError as exc:
                return _error(400, "Invalid JSON content", str(exc))
        return web.Response(status=self._engine.raise_event(instance_id, event_name, text or None))

    def _restart(self, request: web.Request, instance_id: str) -> web.Response:
        instance = self._engine.get(instance_id)
        if instance is None:
            return _error(400, "InstanceId does not match a valid orchestration instance.")
        new_id = uuid.uuid4().hex if _flag(request, "restartWithNewInstanceId", True) else instance_id
        try:
            self._engine.start(instance.name, new_id, instance.input_json, instance.version)
        except InstanceExistsError:
            return _error(409, "A non-terminal instance with this instance ID already exists.")
        return self.check_status_response(request, new_id)
