"""Deterministic demo seed data."""
