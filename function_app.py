"""The function app: creates the Durable app and registers the blueprints. Nothing else lives here.

Follow one call: calls/events_http.py (IncomingCall, answer) -> calls/callbacks_http.py (ACS callbacks)
-> calls/lifecycle_orchestrator.py (the call's lifecycle, over shared/call_lifecycle.py and
shared/call_control.py) -> calls/call_activities.py (actions, summary, email).
"""

import azure.durable_functions as df
import azure.functions as func

from calls import (
    call_actions_http,
    call_activities,
    call_story_http,
    callbacks_http,
    events_http,
    lifecycle_orchestrator,
    media_report_http,
    retention_timer,
)
from calls.startup import prepare_process

prepare_process()  # log masking, telemetry, and every setting validated (fails naming the variable)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (events_http.bp, callbacks_http.bp, media_report_http.bp, lifecycle_orchestrator.bp,
                  call_activities.bp, call_actions_http.bp, call_story_http.bp, retention_timer.bp):
    app.register_functions(blueprint)
