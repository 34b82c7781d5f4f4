"""fraudgraph: find fraud rings in account data and act on them."""

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
]
