"""Where an export goes and how it gets there: the format a suffix names, the CSV pair of
files, and writes through a temporary file renamed into place, so a failure never leaves a
half-written export (or report) behind."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fraudgraph.outputs.subgraph import FORMATS, SUFFIX_FORMATS, ExportError

log = logging.getLogger(__name__)


def format_from_path(path: str | os.PathLike) -> str:
    """The export format a path's suffix names (``.cql`` is Cypher, ``.htm`` HTML); an existing
    directory means CSV (``nodes.csv`` and ``edges.csv`` inside).

    >>> format_from_path("ring.gexf")
    'gexf'
    """
    path = Path(path)
    if path.is_dir():
        return "csv"
    suffix = path.suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    shown = repr(suffix) if suffix else "no suffix"
    raise ExportError(
        f"cannot tell the export format of {str(path)!r} from {shown}; use one of "
        f"{', '.join(sorted(SUFFIX_FORMATS))} or pass a format ({', '.join(FORMATS)})"
    )


@contextmanager
def atomic_paths(targets: list[Path]) -> Iterator[list[Path]]:
    """Temporary paths beside each target; renamed onto the targets only when the block succeeds."""
    temps: list[Path] = []
    try:
        for target in targets:
            if not target.parent.is_dir():
                raise ExportError(f"cannot write {str(target)!r}: directory {str(target.parent)!r} does not exist")
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            temps.append(Path(name))
        yield temps
        # mkstemp makes private (0600) files; an export gets the usual permissions (umask applies)
        umask = os.umask(0)
        os.umask(umask)
        for temp, target in zip(temps, targets):
            os.chmod(temp, 0o666 & ~umask)
            os.replace(temp, target)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def csv_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """Where the CSV export of ``path`` goes: ``out.csv`` -> ``out.nodes.csv`` + ``out.edges.csv``;
    an existing directory -> ``nodes.csv`` + ``edges.csv`` inside it."""
    path = Path(path)
    if path.is_dir():
        return path / "nodes.csv", path / "edges.csv"
    base = path.name[: -len(path.suffix)] if path.suffix.lower() == ".csv" else path.name
    return path.with_name(f"{base}.nodes.csv"), path.with_name(f"{base}.edges.csv")
