"""fraudgraph: find fraud rings in account data and act on them.

The library API mirrors the command line: read a data folder (``read_dataset``), load it into a
workspace (``SqliteWorkspace`` or ``fraudgraph.workspace.neo4j.Neo4jWorkspace``), run a sweep
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
    "Dataset": ("fraudgraph.contract", "Dataset"),
    "read_dataset": ("fraudgraph.contract", "read_dataset"),
    "canonical_key": ("fraudgraph.normalize", "canonical_key"),
    "canonical_keys": ("fraudgraph.normalize", "canonical_keys"),
    "DetectionConfig": ("fraudgraph.graph", "DetectionConfig"),
    "Detection": ("fraudgraph.detection", "Detection"),
    "detect": ("fraudgraph.detection", "detect"),
    "RingScorer": ("fraudgraph.scoring", "RingScorer"),
    "AccountScorer": ("fraudgraph.scoring", "AccountScorer"),
    "Policy": ("fraudgraph.policy", "Policy"),
    "load_policy": ("fraudgraph.policy", "load_policy"),
    "evaluate_policy": ("fraudgraph.policy", "evaluate"),
    "plan_changes": ("fraudgraph.policy", "plan_changes"),
    "run_sweep": ("fraudgraph.sweep", "run_sweep"),
    "SweepResult": ("fraudgraph.sweep", "SweepResult"),
    "Workspace": ("fraudgraph.workspace.base", "Workspace"),
    "SqliteWorkspace": ("fraudgraph.workspace.sqlite", "SqliteWorkspace"),
    "export_graph": ("fraudgraph.export", "export_graph"),
    "write_report": ("fraudgraph.report", "write_report"),
    "generate_world": ("fraudgraph.synthetic", "generate_world"),
    "write_world": ("fraudgraph.synthetic", "write_world"),
    "evaluate_quality": ("fraudgraph.evaluate", "evaluate"),
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
