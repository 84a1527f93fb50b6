"""I/O adapters that both processes ship (the function app and the media host): fetching signing keys,
telemetry providers, the process's logging set-up. Kept out of `shared/`, which is pure."""
