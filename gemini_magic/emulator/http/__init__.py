"""The emulator's HTTP side: the server, the routing, one module per group of routes."""
