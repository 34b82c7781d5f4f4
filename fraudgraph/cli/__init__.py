"""The command line: the root group (main.py), output rendering (render.py), and one module per
command family. Importing the package registers every command on the root group."""

from fraudgraph.cli import (  # noqa: F401 - registers commands
    analyst,
    check,
    data,
    outputs,
    quality,
    results,
    serve,
    sweeps,
)
from fraudgraph.cli.main import cli, main

__all__ = ["cli", "main"]
