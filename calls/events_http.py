"""`POST /api/events`: the Event Grid subscription's endpoint (IncomingCall and validation handshakes).

The call is ringing while this runs, so it answers directly instead of waiting on Durable queues: start
the call's orchestration (one per call, id derived from the call), answer with media streaming, and tell
the orchestration how the answer went.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func
from azure.communication.callautomation import (
    AudioFormat,
    CallConnectionProperties,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.core.exceptions import AzureError, HttpResponseError
from opentelemetry.trace import Span, SpanKind, StatusCode

from calls import answer_claim, answer_policy, app_context, call_index, telemetry
from calls.acs_auth import refuse_unauthenticated
from calls.answer_claim import Claim
from calls.answer_timing import AnswerTiming
from calls.durable_gateway import DurableGateway
from calls.http_responses import error_response, json_response, read_json
from shared.call_activity_names import ORCHESTRATOR
from shared.call_lifecycle import ANSWER_FAILED_EVENT, CALL_ANSWERED, iso, parse_time
from shared.call_start import CallStart, CallTimeouts
from shared.call_token import call_token, instance_id_for_call
from shared.event_grid import EventGridEvent, IncomingCall, SubscriptionValidation, parse_event_grid_delivery
from shared.json_body import BadRequest
from shared.media_recovery_settings import INPUT_KEY as MEDIA_RECOVERY_INPUT
from shared.pii import mask_raw_id
from shared.sealed_value import CALLER, NONCE_BYTES, seal
from shared.settings import FunctionAppSettings
from shared.trace_context import TRACEPARENT, with_traceparent

bp = df.Blueprint()
log = logging.getLogger(__name__)
# The answer path's blocking SDK calls (claim, answer) get their own threads: asyncio's default pool has
# min(32, cores + 4) threads, 6 here, which a burst of ringing calls would queue behind. Sized like the ACS
# and Blob clients' connection pools, so no request waits for a connection (calls/app_context.py).
_ANSWER_POOL = ThreadPoolExecutor(max_workers=app_context.ANSWER_CONCURRENCY, thread_name_prefix="answer")


def callback_url(settings: FunctionAppSettings, instance_id: str, token: str) -> str:
    return f"{settings.callback_base_url}/api/callbacks/{instance_id}?token={token}"


def media_url(settings: FunctionAppSettings, instance_id: str, token: str) -> str:
    return f"{settings.media_host_wss_url}/ws/{instance_id}/{token}"


def transcription_url(settings: FunctionAppSettings, instance_id: str, token: str) -> str:
    # Its own path: ACS opens one socket per subscription, and the media host merges this one into the
    # call's transcript beside the media socket (shared/media_route.py).
    return f"{media_url(settings, instance_id, token)}/transcription"


def _transcription_options(settings: FunctionAppSettings, instance_id: str, token: str,
                           traceparent: str | None) -> TranscriptionOptions | None:
    transcription = app_context.transcription_settings()
    if not transcription.available:
        return None
    # Given whenever transcription is available, started at once unless CALL_TRANSCRIPTION=off: ACS can
    # start transcription later only for a call answered with these options (the transport URL is set here).
    return TranscriptionOptions(
        transport_url=with_traceparent(transcription_url(settings, instance_id, token), traceparent),
        transport_type=StreamingTransportType.WEBSOCKET,
        locale=transcription.locale,
        start_transcription=transcription.start_at_answer,
    )


def media_streaming_options(settings: FunctionAppSettings, instance_id: str, token: str,
                            traceparent: str | None) -> MediaStreamingOptions:
    """The media streaming of a call, answered or created (calls/call_orchestration/outbound_activity.py)."""
    options = app_context.config().media_options  # MEDIA_AUDIO_CHANNEL, MEDIA_DTMF
    streaming = MediaStreamingOptions(
        # The traceparent makes the media host's span part of the call's trace.
        transport_url=with_traceparent(media_url(settings, instance_id, token), traceparent),
        transport_type=StreamingTransportType.WEBSOCKET,
        content_type=MediaStreamingContentType.AUDIO,
        audio_channel_type=MediaStreamingAudioChannelType(options.audio_channel),
        start_media_streaming=True,
        # Without it, audio the media host sends back is never heard (azure-sdk-for-python #37766).
        enable_bidirectional=True,
        audio_format=AudioFormat(settings.media_audio_format),
        enable_dtmf_tones=options.dtmf,
    )
    return streaming


def transcription_options(settings: FunctionAppSettings, instance_id: str, token: str,
                          traceparent: str | None) -> TranscriptionOptions | None:
    return _transcription_options(settings, instance_id, token, traceparent)


def _answer(settings: FunctionAppSettings, call: IncomingCall, instance_id: str,
            traceparent: str | None = None, stream: bool = True) -> CallConnectionProperties:
    token = call_token(settings.call_token_secret, instance_id)
    streaming = media_streaming_options(settings, instance_id, token, traceparent)
    # Text prompts (greeting, menu, fallback) and transcription need ACS to know an AI services resource.
    endpoint = app_context.transcription_settings().cognitive_services_endpoint
    transcription = _transcription_options(settings, instance_id, token, traceparent) if stream else None
    return app_context.call_automation_client().answer_call(
        incoming_call_context=call.incoming_call_context,
        callback_url=callback_url(settings, instance_id, token),
        # Not streamed: a call answered only for the after-hours message (calls/answer_policy.py).
        media_streaming=streaming if stream else None,
        operation_context=instance_id,
        cognitive_services_endpoint=endpoint,
        transcription=transcription,
    )


def _answer_failure(error: AzureError) -> dict[str, object]:
    status = error.status_code if isinstance(error, HttpResponseError) else None
    message = (getattr(error, "message", None) or type(error).__name__)[:200]
    return {"type": ANSWER_FAILED_EVENT, "time": iso(datetime.now(UTC)),
            "result": {"code": status, "subCode": None, "message": message}}


def _answer_latency_ms(event: EventGridEvent, received: float) -> float:
    # From the event's own time when it has one (the caller hears ringing from then on), else from receipt.
    event_time = parse_time(event.event_time)
    if event_time is not None:
        return max(0.0, (datetime.now(UTC) - event_time).total_seconds() * 1000.0)
    return (time.monotonic() - received) * 1000.0


async def _claim_and_start(gateway: DurableGateway, instance_id: str, payload: dict[str, object], delivery_id: str,
                           timing: AnswerTiming) -> bool:
    """True when this delivery may answer: it won the call's claim and the call's orchestration is live.

    The claim first: exactly one delivery wins it, so at most one answers, and a NEW claim proves that no
    orchestration of the call exists, so its start needs no status read first (calls/answer_claim.py). A
    delivery that finds the claim held starts nothing new over a finished call (status first) and answers
    nothing; it still starts the orchestration if the winner never did, so the call is recorded.
    """
    loop = asyncio.get_running_loop()
    claim = await loop.run_in_executor(_ANSWER_POOL, answer_claim.claim_answer, instance_id, delivery_id)
    timing.step("claim")
    try:
        if claim is Claim.NEW:
            start = await gateway.start_new(ORCHESTRATOR, instance_id, payload)
        else:
            start = await gateway.start_once(ORCHESTRATOR, instance_id, payload)
    except Exception:
        # Event Grid will deliver again (503): a claim kept now would leave that redelivery unable to answer.
        if claim.won:
            await loop.run_in_executor(_ANSWER_POOL, answer_claim.release_claim, instance_id, delivery_id)
        raise
    timing.step("durable_start")
    # Not live: the instance found has ended (a late redelivery that took a released claim over).
    return claim.won and start.live


async def _take_call(gateway: DurableGateway, event: EventGridEvent, call: IncomingCall,
                     timing: AnswerTiming) -> dict[str, str]:
    # One call, one trace: this span is its root; its traceparent travels with every later step.
    instance_id = instance_id_for_call(call.server_call_id)
    with telemetry.call_span("IncomingCall", kind=SpanKind.SERVER, attributes={
            "call.instance_id": instance_id, "call.correlation_id": call.correlation_id,
            "eventgrid.event_id": event.id}) as span:
        result = await _take_call_in_span(gateway, event, call, instance_id, span, timing)
        span.set_attribute("call.answer_status", result["status"])
        timing.done(result["status"])
        return result


async def _take_call_in_span(gateway: DurableGateway, event: EventGridEvent, call: IncomingCall, instance_id: str,
                             span: Span, timing: AnswerTiming) -> dict[str, str]:
    received = time.monotonic()
    settings = app_context.settings()
    traceparent = telemetry.traceparent_of(span)
    decision = await answer_policy.decision_for(call)  # before anything is answered (calls/answer_policy.py)
    start = CallStart(
        instance_id=instance_id,
        caller=mask_raw_id(call.from_.raw_id),
        caller_ref=seal(settings.call_token_secret, os.urandom(NONCE_BYTES), CALLER, instance_id,
                        call.from_.raw_id) if call.from_.raw_id else None,
        caller_kind=call.from_.kind,
        transcription=app_context.transcription_settings().state,
        callee=mask_raw_id(call.to.raw_id),
        correlation_id=call.correlation_id,
        server_call_id=call.server_call_id,
        ringing_at=iso(datetime.now(UTC)),
        timeouts=CallTimeouts(connect_seconds=settings.connect_timeout_seconds,
                              max_duration_seconds=settings.max_call_duration_seconds),
        policy=answer_policy.policy_input(decision),
    )
    payload = {**start.to_dict(), **({TRACEPARENT: traceparent} if traceparent else {}),
               MEDIA_RECOVERY_INPUT: app_context.config().media_recovery.to_input()}
    timing.step("prepare")
    if not await _claim_and_start(gateway, instance_id, payload, str(event.id), timing):
        log.info("Duplicate IncomingCall delivery %s for %s (correlation %s): not answered again",
                 event.id, instance_id, call.correlation_id)
        return {"instanceId": instance_id, "status": "duplicate"}
    call_index.record_call_started(start)  # queued, not awaited: the caller is ringing
    refused = await answer_policy.refuse(call, instance_id, decision)
    if refused is not None:
        return refused
    try:
        telemetry.calls_incoming.add(1)
        answered = await asyncio.get_running_loop().run_in_executor(
            _ANSWER_POOL, _answer, settings, call, instance_id, traceparent, answer_policy.streams_media(decision))
        timing.step("answer")
    except AzureError as error:
        span.set_status(StatusCode.ERROR, "answer failed")
        span.set_attribute("call.outcome", "answer_failed")
        # Already answered, expired, or still failing after the client's retries: recorded on the call's
        # orchestration (which ends it and sends the summary), not retried forever.
        log.warning("Answer failed for %s (correlation %s): %s", instance_id, call.correlation_id,
                    type(error).__name__)
        await gateway.raise_event(instance_id, ANSWER_FAILED_EVENT, _answer_failure(error))
        return {"instanceId": instance_id, "status": "answer_failed"}
    telemetry.calls_answered.add(1)
    telemetry.answer_latency.record(_answer_latency_ms(event, received))
    span.set_attribute("call.connection_id", answered.call_connection_id or "")
    await gateway.raise_event(instance_id, CALL_ANSWERED, {
        "type": CALL_ANSWERED,
        "time": iso(datetime.now(UTC)),
        "callConnectionId": answered.call_connection_id,
    })
    timing.step("raise")
    log.info("Answered %s (correlation %s, connection %s)", instance_id, call.correlation_id,
             answered.call_connection_id)
    return {"instanceId": instance_id, "status": "answered"}


def _timing(received: float, authenticated: float, parsed: float) -> AnswerTiming:
    timing = AnswerTiming(received)
    timing.step("auth", authenticated)
    timing.step("parse", parsed)
    return timing


def cloud_events_handshake(req: func.HttpRequest) -> func.HttpResponse:
    origin = req.headers.get("webhook-request-origin")
    if not origin:
        return json_response(400, {"error": "bad_request", "message": "OPTIONS needs WebHook-Request-Origin",
                                   "path": ""})
    return func.HttpResponse(status_code=200, headers={"WebHook-Allowed-Origin": origin,
                                                       "WebHook-Allowed-Rate": "*"})


def validation_response(req: func.HttpRequest, delivery: list[EventGridEvent]) -> func.HttpResponse | None:
    """The answer to a subscription validation handshake, or None for a delivery of events."""
    validations = [event.data for event in delivery if isinstance(event.data, SubscriptionValidation)]
    if req.headers.get("aeg-event-type", "").lower() != "subscriptionvalidation" and not validations:
        return None
    if not validations:
        return error_response(BadRequest("SubscriptionValidation delivery without a validation event"))
    return json_response(200, {"validationResponse": validations[0].validation_code})


async def _take_calls(client: df.DurableOrchestrationClient, delivery: list[EventGridEvent],
                      timing: Callable[[], AnswerTiming]) -> func.HttpResponse:
    calls = [(event, event.data) for event in delivery if isinstance(event.data, IncomingCall)]
    for event in delivery:
        if event.data is None:
            log.info("Acknowledged Event Grid event %s of unhandled type %s", event.id, event.event_type)
    gateway = DurableGateway(client)
    try:
        results = await asyncio.gather(*(_take_call(gateway, event, call, timing()) for event, call in calls))
    except Exception:
        # Durable itself is unavailable: a 503 makes Event Grid deliver again, so the call is not lost.
        log.exception("Could not start call orchestrations")
        return json_response(503, {"error": "unavailable", "message": "try again", "path": ""})
    return json_response(200, {"calls": list(results), "ignored": sum(1 for e in delivery if e.data is None)})


@bp.route(route="events", methods=["POST", "OPTIONS"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def events(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    received = time.perf_counter()
    # On top of the function key: Event Grid's Entra token, when EVENTGRID_AAD_APP_ID is set.
    refusal = await refuse_unauthenticated(app_context.event_grid_jwt_verifier(), req, "Event Grid delivery")
    if refusal is not None:
        return refusal
    authenticated = time.perf_counter()
    if req.method == "OPTIONS":
        return cloud_events_handshake(req)
    try:
        delivery = parse_event_grid_delivery(read_json(req))
    except BadRequest as error:
        log.warning("Rejected Event Grid delivery: %s at %s", error.message, error.path or "body")
        return error_response(error)
    validation = validation_response(req, delivery)
    if validation is not None:
        return validation
    parsed = time.perf_counter()
    return await _take_calls(client, delivery, lambda: _timing(received, authenticated, parsed))
