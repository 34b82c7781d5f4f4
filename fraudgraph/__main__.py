"""`python -m fraudgraph` runs the command line."""

from fraudgraph.cli.main import main

main()
