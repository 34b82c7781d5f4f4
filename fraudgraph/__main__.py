"""`python -m fraudgraph` runs the command line."""

from fraudgraph.cli import main

main()
