"""``/ws/optimization``: the WebSocket protocol of PROTOCOL.md."""
