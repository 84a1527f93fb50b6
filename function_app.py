"""The function app: creates the Durable app and registers the blueprints. Nothing else lives here.

Follow one call: calls/events_http.py (IncomingCall, answer) -> calls/callbacks_http.py (ACS callbacks)
-> calls/lifecycle_orchestrator.py (the call's lifecycle) -> calls/call_activities.py (summary, email).
"""

import azure.durable_functions as df
import azure.functions as func

import os

from calls import (
    call_actions_http,
    call_activities,
    callbacks_http,
    events_http,
    lifecycle_orchestrator,
    media_report_http,
    retention_timer,
)
from calls.app_context import acs_jwt_verifier, event_grid_jwt_verifier, settings
from calls.call_story_http import bp as call_story_bp
from calls.telemetry import configure as configure_telemetry
from shared.call_flow_settings import load_call_flow_settings
from shared.pii_logging import install_phone_number_masking
from shared.security_settings import load_retention_days

install_phone_number_masking()  # before anything logs: no raw phone number reaches any handler
configure_telemetry()  # exporters from the environment (once per process) and JSON logs with call ids
settings()  # Fail at start-up, naming the variable, when a setting is missing or malformed.
load_call_flow_settings(os.environ)  # The same for the call-flow settings.
acs_jwt_verifier(), event_grid_jwt_verifier(), load_retention_days(os.environ)  # and for auth and retention

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (events_http.bp, callbacks_http.bp, media_report_http.bp, lifecycle_orchestrator.bp,
                  call_activities.bp, retention_timer.bp, call_actions_http.bp):
    app.register_functions(blueprint)
app.register_functions(call_story_bp)  # ops: GET /api/calls, /api/calls/{id} and its page
