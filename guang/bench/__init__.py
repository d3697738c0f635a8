"""Benchmarks: one command each, a table on screen, JSON with figures and machine facts."""
