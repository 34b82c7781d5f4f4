"""Workspace configuration (TOML): extra identifier kinds with their weights, and detection tunables.

    [kinds]               # identifier kinds beyond the contract's eight, each with its link weight
    loyalty_card = 0.6

    [detection]           # any field of fraudgraph.detection.graph.DetectionConfig
    hub_cap = 60

The data contract accepts another kind only when the configuration declares it; the sweep then
weighs it like the built-in kinds (by its weight and by rarity).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudgraph.errors import FraudGraphError
from fraudgraph.model.frames import IDENTIFIER_KINDS

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ConfigError(FraudGraphError):
    """The workspace configuration file is invalid."""


@dataclass(frozen=True)
class WorkspaceConfig:
    extra_kinds: dict[str, float] = field(default_factory=dict)
    detection: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def detection_config(self):
        """The ``DetectionConfig`` these settings describe (defaults for what they leave out)."""
        from fraudgraph.detection.graph import DetectionConfig

        return DetectionConfig(**{**self.detection, "extra_kinds": dict(self.extra_kinds)})


def _line_of(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return i
    return None


def load_config(path: str | Path | None) -> WorkspaceConfig:
    """Read and validate a configuration file; ``None`` gives the defaults."""
    if path is None:
        return WorkspaceConfig()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None

    def bad(key: str, message: str) -> ConfigError:
        line = _line_of(text, key.rsplit(".", 1)[-1])
        return ConfigError(f"{p}{':' + str(line) if line else ''}: {key}: {message}")

    unknown = set(data) - {"kinds", "detection"}
    if unknown:
        key = sorted(unknown)[0]
        raise bad(key, "unknown section or key (expected [kinds] and [detection])")
    kinds: dict[str, float] = {}
    for name, weight in (data.get("kinds") or {}).items():
        if not _KIND_NAME.match(name):
            raise bad(f"kinds.{name}", "a kind name is lower-case letters, digits and _")
        if name in IDENTIFIER_KINDS:
            raise bad(f"kinds.{name}", "is a built-in kind; set its weight with [detection] kind_weights")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < float(weight) <= 10:
            raise bad(f"kinds.{name}", f"weight {weight!r} must be a number in (0, 10]")
        kinds[name] = float(weight)

    from fraudgraph.detection.graph import DetectionConfig

    allowed = {f.name for f in dataclasses.fields(DetectionConfig)} - {"extra_kinds"}
    detection = dict(data.get("detection") or {})
    for key in detection:
        if key not in allowed:
            raise bad(f"detection.{key}", f"unknown setting (expected one of {', '.join(sorted(allowed))})")
    try:
        DetectionConfig(**{**detection, "extra_kinds": kinds})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{p}: [detection]: {e}") from None
    return WorkspaceConfig(extra_kinds=kinds, detection=detection, source=str(p))
