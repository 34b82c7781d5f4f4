"""Application layer: sweeps, analyst actions, investigation and quality evaluation over a workspace."""
