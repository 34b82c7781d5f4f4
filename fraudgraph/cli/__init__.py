"""The command line: click groups per command family, output rendering and exit codes."""

from fraudgraph.cli.main import cli, main

__all__ = ["cli", "main"]
