"""The D-Bus API: names, codec, service and typed client."""
