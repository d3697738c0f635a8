"""Application services: the behaviour that API, dataflow, CLI and edge entrypoints call."""
