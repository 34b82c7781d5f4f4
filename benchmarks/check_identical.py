"""Is detect()'s output byte-identical to a saved reference? For performance work on detection.

    python benchmarks/check_identical.py --save /tmp/detect-ref.json      # before the change
    python benchmarks/check_identical.py --compare /tmp/detect-ref.json   # after it

Runs detect() on several worlds of both generators (``generate_world`` and ``generate_city``),
with and without a previous sweep's ring members, and digests every frame it returns (rings,
ring_members, account_scores with their reasons, hubs, ring_identifiers, account_features) and
its scalars: column names, dtypes, index and every value (floats bit for bit, objects as their
JSON with key order kept, the form the workspace stores). ``--compare`` prints the frames whose
digest changed and exits 1 when any did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np
import pandas as pd
from quality import contract_frames  # benchmarks/quality.py, beside this script

from fraudgraph.detection.pipeline import Detection, detect
from fraudgraph.synthetic.second import generate_city
from fraudgraph.synthetic.world import generate_world

FRAMES = ("rings", "ring_members", "account_scores", "hubs", "ring_identifiers", "account_features")
# (generator, accounts, seed)
DEFAULT_WORLDS = (
    ("world", 3_000, 1),
    ("world", 20_000, 2),
    ("world", 50_000, 3),
    ("city", 3_000, 1),
    ("city", 20_000, 2),
    ("city", 50_000, 3),
)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _column_bytes(values: pd.Series) -> bytes:
    arr = values.to_numpy()
    if arr.dtype != object:
        return str(arr.dtype).encode() + np.ascontiguousarray(arr).tobytes()
    # Type names too: an int that became a float (or a str that became np.str_) is a change.
    parts = [type(v).__name__ + ":" + json.dumps(v, default=_json_default, allow_nan=True) for v in arr]
    return "\x1f".join(parts).encode()


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's columns, dtypes, index and values."""
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(json.dumps([str(t) for t in frame.dtypes]).encode())
    h.update(_column_bytes(frame.index.to_series()))
    h.update(str(frame.index.name).encode())
    for column in frame.columns:
        h.update(_column_bytes(frame[column]))
    return h.hexdigest()


def detection_digests(det: Detection) -> dict[str, str]:
    out = {name: frame_digest(getattr(det, name)) for name in FRAMES}
    out["scalars"] = hashlib.sha256(f"{det.next_ring_number}|{det.as_of!r}".encode()).hexdigest()
    return out


def world_frames(generator: str, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    world = generate_world(n, seed) if generator == "world" else generate_city(n, seed)
    return contract_frames(world)


def digests(worlds=DEFAULT_WORLDS) -> dict[str, dict[str, str]]:
    """Digests per world: a plain sweep, and a second sweep that keeps the first's ring ids
    (half the members, seed 1) so the stable-id path runs too."""
    out: dict[str, dict[str, str]] = {}
    for generator, n, seed in worlds:
        accounts, links, transactions = world_frames(generator, n, seed)
        det = detect(accounts, links, transactions, seed=0)
        out[f"{generator}-{n}-{seed}"] = detection_digests(det)
        previous = det.ring_members.iloc[::2]
        again = detect(
            accounts, links, transactions, seed=1, previous_members=previous, next_ring_number=det.next_ring_number
        )
        out[f"{generator}-{n}-{seed}-again"] = detection_digests(again)
        print(f"  {generator} {n:,} seed {seed}: {len(det.rings):,} rings", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", metavar="FILE", help="write the digests of the current code to FILE")
    mode.add_argument("--compare", metavar="FILE", help="compare the current code's digests with FILE")
    args = parser.parse_args(argv)
    found = digests()
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            json.dump(found, fh, indent=1, sort_keys=True)
        print(f"saved digests of {len(found)} detections to {args.save}")
        return 0
    with open(args.compare, encoding="utf-8") as fh:
        reference = json.load(fh)
    changed = [
        f"{world}: {name}"
        for world, ref in sorted(reference.items())
        for name, digest in ref.items()
        if found.get(world, {}).get(name) != digest
    ]
    n_frames = sum(len(v) for v in reference.values())
    if changed:
        print(f"{len(changed)} of {n_frames} digests differ:\n  " + "\n  ".join(changed))
        return 1
    print(f"identical: all {n_frames} digests of {len(reference)} detections match {args.compare}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
