"""The media host: terminates ACS's bidirectional media-streaming WebSocket (see media_host.server)."""
