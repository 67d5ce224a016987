"""Controllers: call the client, build views."""
