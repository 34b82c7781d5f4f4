"""fraudgraph: find fraud rings in account data and act on them.

The library API mirrors the command line: read a data folder (``read_dataset``), load it into a
workspace (``SqliteWorkspace`` or ``fraudgraph.workspace.neo4j.store.Neo4jWorkspace``), run a sweep
(``run_sweep``), or call the pure stages directly (``detect``, ``evaluate_policy``).
"""

from fraudgraph.errors import (
    CypherError,
    FraudGraphError,
    InputError,
    LockedError,
    NotFoundError,
    PolicyError,
    Problem,
    WorkspaceError,
)

__version__ = "0.1.0"

_LAZY = {
    # name: (module, attribute); imported on first use so `import fraudgraph` stays cheap.
    "Dataset": ("fraudgraph.ingest.contract", "Dataset"),
    "read_dataset": ("fraudgraph.ingest.contract", "read_dataset"),
    "canonical_key": ("fraudgraph.ingest.normalize", "canonical_key"),
    "canonical_keys": ("fraudgraph.ingest.normalize", "canonical_keys"),
    "DetectionConfig": ("fraudgraph.detection.graph", "DetectionConfig"),
    "Detection": ("fraudgraph.detection.pipeline", "Detection"),
    "detect": ("fraudgraph.detection.pipeline", "detect"),
    "RingScorer": ("fraudgraph.detection.scoring", "RingScorer"),
    "AccountScorer": ("fraudgraph.detection.scoring", "AccountScorer"),
    "Policy": ("fraudgraph.decisions.policy", "Policy"),
    "load_policy": ("fraudgraph.decisions.policy", "load_policy"),
    "evaluate_policy": ("fraudgraph.decisions.policy", "evaluate"),
    "plan_changes": ("fraudgraph.decisions.policy", "plan_changes"),
    "run_sweep": ("fraudgraph.app.sweep", "run_sweep"),
    "SweepResult": ("fraudgraph.app.sweep", "SweepResult"),
    "Workspace": ("fraudgraph.workspace.base", "Workspace"),
    "SqliteWorkspace": ("fraudgraph.workspace.sqlite.store", "SqliteWorkspace"),
    "export_graph": ("fraudgraph.outputs.export", "export_graph"),
    "write_report": ("fraudgraph.outputs.report", "write_report"),
    "generate_world": ("fraudgraph.synthetic.world", "generate_world"),
    "write_world": ("fraudgraph.synthetic.world", "write_world"),
    "evaluate_quality": ("fraudgraph.app.quality", "evaluate_quality"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fraudgraph' has no attribute {name!r}")


__all__ = [
    "CypherError",
    "FraudGraphError",
    "InputError",
    "LockedError",
    "NotFoundError",
    "PolicyError",
    "Problem",
    "WorkspaceError",
    "__version__",
    *_LAZY,
]
