"""The function app: creates the Durable app and registers the blueprints. Nothing else lives here.

Follow one call: calls/events_http.py (IncomingCall, answer) -> calls/callbacks_http.py (ACS callbacks)
-> calls/lifecycle_orchestrator.py (the call's lifecycle) -> calls/call_activities.py (summary, email).
"""

import azure.durable_functions as df
import azure.functions as func

from calls import call_activities, callbacks_http, events_http, lifecycle_orchestrator, media_report_http
from calls.app_context import settings

settings()  # Fail at start-up, naming the variable, when a setting is missing or malformed.

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (events_http.bp, callbacks_http.bp, media_report_http.bp, lifecycle_orchestrator.bp,
                  call_activities.bp):
    app.register_functions(blueprint)
