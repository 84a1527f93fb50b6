"""Conversational load benchmark of the realtime voice path: python -m bench.voice_load."""
