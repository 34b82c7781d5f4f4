"""Model layer: the column contracts of the frames passed between stages, and typed configuration.

Imports nothing else from fraudgraph but ``fraudgraph.errors``.
"""
