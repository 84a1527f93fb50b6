"""Micro-benchmark of the per-frame resampling and base64 work: `python -m bench.resample`."""
