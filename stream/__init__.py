"""The Bytewax dataflow: events from the bus become live features in Redis."""
