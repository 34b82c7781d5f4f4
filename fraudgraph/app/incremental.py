"""The memo an incremental sweep reuses: Leiden answers by their exact input, kept in the workspace.

A sweep reads it (unless ``--full``), lets detection reuse and record answers, and stores the
answers of its own components for the next sweep (unless a dry run). It lives in the workspace
(``fraudgraph.workspace.detection_cache``) and is content-addressed: a result with it is the
result without it, whatever the data version, as_of, seed, settings or engine of the sweep
that wrote it (each is part of what a Leiden call is given, or of its digest).
"""

from __future__ import annotations

from typing import Any

from fraudgraph.detection.memo import CommunityMemo
from fraudgraph.workspace.detection_cache import read_blob, write_blob

MEMO_NAME = "communities"


def load_memo(ws: Any, *, reuse: bool) -> CommunityMemo:
    """The workspace's memo; with ``reuse`` off, an empty one that still records (``--full``)."""
    return CommunityMemo.from_bytes(read_blob(ws, MEMO_NAME) if reuse else None, reuse=reuse)


def save_memo(ws: Any, memo: CommunityMemo) -> None:
    """Keep this sweep's answers (only those: the memo never outgrows the components)."""
    write_blob(ws, MEMO_NAME, memo.kept().to_bytes())


def memo_note(memo: CommunityMemo) -> str:
    """One line for the progress output: how many community cuts were reused."""
    total = memo.reused + memo.computed
    return f"detect: community detection reused for {memo.reused:,} of {total:,} Leiden calls"
