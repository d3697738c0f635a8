"""Adapters: one module per external system, each behind a small Protocol in `ports`."""
