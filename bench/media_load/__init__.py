"""Media host load benchmark: `python -m bench.media_load` (see __main__ for options)."""
