"""The one blueprint of the call orchestration: the orchestrator and its activities register on it."""

import azure.durable_functions as df

bp = df.Blueprint()
