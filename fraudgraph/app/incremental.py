"""The memo an incremental sweep reuses: Leiden answers by their exact input, kept in the workspace.

A sweep reads it (unless ``--full``), lets detection reuse and record answers, and stores the
answers of its own components for the next sweep (unless a dry run). It lives in the workspace
(``fraudgraph.workspace.detection_cache``) and is content-addressed: a result with it is the
result without it, whatever the data version, as_of, seed, settings or engine of the sweep
that wrote it (each is part of what a Leiden call is given, or of its digest).
"""

from __future__ import annotations

from typing import Any

from fraudgraph.detection.baseline import Baseline
from fraudgraph.detection.memo import CommunityMemo
from fraudgraph.workspace.detection_cache import read_blob, write_blob

MEMO_NAME = "communities"
BASELINE_NAME = "baseline"


def load_memo(ws: Any, *, reuse: bool) -> CommunityMemo:
    """The workspace's memo; with ``reuse`` off, an empty one that still records (``--full``)."""
    return CommunityMemo.from_bytes(read_blob(ws, MEMO_NAME) if reuse else None, reuse=reuse)


def save_memo(ws: Any, memo: CommunityMemo) -> None:
    """Keep this sweep's answers (only those: the memo never outgrows the components)."""
    write_blob(ws, MEMO_NAME, memo.kept().to_bytes())


def save_memo_merged(ws: Any, memo: CommunityMemo) -> None:
    """Keep the answers the memo was read with and this sweep's (a delta sweep saw only part of
    the world; stale answers are harmless, and the next full sweep keeps only its own)."""
    write_blob(ws, MEMO_NAME, CommunityMemo({**memo.entries, **memo.used}).to_bytes())


def memo_note(memo: CommunityMemo) -> str:
    """One line for the progress output: how many community cuts were reused."""
    total = memo.reused + memo.computed
    return f"detect: community detection reused for {memo.reused:,} of {total:,} Leiden calls"


def fitted_for(key: dict) -> str:
    """What a baseline is fitted under: the seed, the detection settings and the engine of the
    sweep's detection key. A sweep with other ones fits its own."""
    return f"seed={key['seed']} settings={key['settings']} engine={key['engine']}"


def load_baseline(ws: Any, key: dict, *, refit: bool) -> Baseline | None:
    """The workspace's kept baseline when it fits this sweep (same seed, settings and engine);
    None when the sweep must fit one (``refit``, the first sweep, other settings, or a stored
    blob that is not a baseline)."""
    if refit:
        return None
    blob = read_blob(ws, BASELINE_NAME)
    if blob is None:
        return None
    try:
        kept = Baseline.from_bytes(blob)
    except ValueError:
        return None
    return kept if kept.fitted_for == fitted_for(key) else None


def save_baseline(ws: Any, baseline: Baseline) -> None:
    """Keep the baseline a sweep fitted, for the sweeps after it."""
    write_blob(ws, BASELINE_NAME, baseline.to_bytes())
