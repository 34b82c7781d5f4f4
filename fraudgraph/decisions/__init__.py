"""Decisions layer: the risk policy (pure evaluation), planned changes, customer notices, verdict rules."""
