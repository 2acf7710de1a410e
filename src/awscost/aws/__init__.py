"""AWS access: one session/client factory, account discovery and per-account sessions, the region list."""
