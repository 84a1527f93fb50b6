"""`python -m tools.call_story`: one call's story (or the list of calls) in the terminal, from the function app."""
