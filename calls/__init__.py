"""Blueprints of the function app: one module per function or orchestration."""
