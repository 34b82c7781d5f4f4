"""Synthetic world generators (accounts, links, transactions and the planted truth)."""

from fraudgraph.synthetic.world import generate_world, write_world

__all__ = ["generate_world", "write_world"]
