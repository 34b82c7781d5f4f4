"""Ingest layer: read and validate a data folder (the data contract) and normalize identifiers."""
