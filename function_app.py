"""The function app: creates the Durable app and registers the blueprints. Nothing else lives here.

Follow one call: calls/events_http.py (IncomingCall, answer) -> calls/callbacks_http.py (ACS callbacks, raised
on the call's inbox) -> calls/call_orchestration/ (the orchestrator drives the pure machine in
shared/call_machine.py; its activities run actions, the summary and the email).
"""

import azure.durable_functions as df
import azure.functions as func

from calls import (
    call_actions_http,
    call_orchestration,
    call_story_http,
    callbacks_http,
    digest_timer,
    events_http,
    media_report_http,
    outbound_calls_http,
    recording_events_http,
    retention_timer,
)
from calls.startup import prepare_process

prepare_process()  # log masking, telemetry, and every setting validated (fails naming the variable)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (events_http.bp, callbacks_http.bp, media_report_http.bp, call_orchestration.bp,
                  call_actions_http.bp, call_story_http.bp, retention_timer.bp, outbound_calls_http.bp,
                  recording_events_http.bp, digest_timer.bp):
    app.register_functions(blueprint)
