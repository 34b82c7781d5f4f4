"""The ring picture, laid out on the server: what the members share, large and labelled, in the
middle; the members around it (private identifiers folded into a count on each); money between
members as arrows. Only geometry is computed here; ``templates/graph.svg`` draws it (escaped).
"""

from __future__ import annotations

import math
from typing import Any

from fraudgraph.outputs.subgraph import ACTION_COLOURS, kind_colours

WIDTH = 960
MIN_HEIGHT = 560
MAX_SHARED_SHOWN = 40


def _order_members(members: list[str], shared: list[dict[str, Any]]) -> list[str]:
    """Members ordered by the mean position of the identifiers they share, so lines stay short."""
    index: dict[str, list[int]] = {m: [] for m in members}
    for i, s in enumerate(shared):
        for m in s["members"]:
            if m in index:
                index[m].append(i)
    return sorted(members, key=lambda m: (sum(index[m]) / len(index[m]) if index[m] else len(shared), m))


def _circle(n: int, radius: float, cx: float, cy: float, start: float = -math.pi / 2) -> list[tuple[float, float]]:
    if n == 1 and radius < 1:
        return [(cx, cy)]
    return [
        (cx + radius * math.cos(start + 2 * math.pi * i / n), cy + radius * math.sin(start + 2 * math.pi * i / n))
        for i in range(n)
    ]


def _label(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _identifier_slots(shared: list[dict[str, Any]], angle_of: dict[str, float]) -> list[float]:
    """An angle on the inner circle for each shared identifier: evenly spaced (boxes never pile up),
    in the order of the mean angle of the members using it, turned to sit near them."""
    n = len(shared)
    wanted = []
    for s in shared:
        angles = [angle_of[m] for m in s["members"] if m in angle_of]
        x = sum(math.cos(t) for t in angles)
        y = sum(math.sin(t) for t in angles)
        wanted.append(math.atan2(y, x) if angles else 0.0)
    order = sorted(range(n), key=lambda i: wanted[i])
    step = 2 * math.pi / n
    shift = math.atan2(
        sum(math.sin(wanted[i] - k * step) for k, i in enumerate(order)),
        sum(math.cos(wanted[i] - k * step) for k, i in enumerate(order)),
    )
    slots = [0.0] * n
    for k, i in enumerate(order):
        slots[i] = shift + k * step
    return slots


def layout(ring: dict[str, Any]) -> dict[str, Any]:
    """Positions for the ring page's picture, from ``data.ring``'s answer."""
    members = [m["account_id"] for m in ring["members"]]
    shared = sorted(ring["shared"], key=lambda s: (-s["n_members"], s["kind"], s["shown"]))[:MAX_SHARED_SHOWN]
    ordered = _order_members(members, shared)
    n = max(len(ordered), 1)
    # The inner circle is long enough for its boxes side by side; the members sit well outside it.
    inner = 0.0 if len(shared) == 1 else max(90.0, len(shared) * 200 / (2 * math.pi))
    outer = max(200.0, n * 14.0, inner + 170)
    height = max(MIN_HEIGHT, int(2 * outer + 100))
    width = max(WIDTH, int(2 * outer + 300))
    cx, cy = width / 2, height / 2
    member_pos = dict(zip(ordered, _circle(n, outer, cx, cy)))
    angle_of = {a: math.atan2(y - cy, x - cx) for a, (x, y) in member_pos.items()}
    by_member = {m["account_id"]: m for m in ring["members"]}
    slots = _identifier_slots(shared, angle_of) if len(shared) > 1 else [0.0] * len(shared)
    colours = kind_colours(sorted({s["kind"] for s in shared}))
    biggest = max((s["n_members"] for s in shared), default=1)
    ident_nodes = []
    for s, angle in zip(shared, slots):
        scale = 0.8 + 0.4 * s["n_members"] / biggest
        label = _label(s["shown"][0])
        spellings = f" · {len(s['shown'])} spellings" if len(s["shown"]) > 1 else ""
        ident_nodes.append(
            {
                **s,
                "x": cx + inner * math.cos(angle),
                "y": cy + inner * math.sin(angle),
                "w": max(120.0, (len(label) * 7.4 + 16) * scale),
                "h": 40 * scale,
                "font": round(12 * scale, 1),
                "colour": colours[s["kind"]],
                "label": label,
                "heading": f"{s['kind'].replace('_', ' ')} · {s['n_members']} members{spellings}",
            }
        )
    account_nodes = []
    for account_id in ordered:
        m = by_member[account_id]
        x, y = member_pos[account_id]
        angle = math.atan2(y - cy, x - cx)
        account_nodes.append(
            {
                "account_id": account_id,
                "x": x,
                "y": y,
                "label_x": x + 26 * math.cos(angle),
                "label_y": y + 26 * math.sin(angle) + 4,
                "anchor": "start" if math.cos(angle) > 0.2 else ("end" if math.cos(angle) < -0.2 else "middle"),
                "colour": ACTION_COLOURS.get(m.get("action") or "none", ACTION_COLOURS["none"]),
                "action": m.get("action") or "none",
                "score": m.get("score"),
                "private": m.get("private_identifiers", 0),
            }
        )
    lines = [
        {"x1": member_pos[a][0], "y1": member_pos[a][1], "x2": node["x"], "y2": node["y"], "colour": node["colour"]}
        for node in ident_nodes
        for a in node["members"]
        if a in member_pos
    ]
    arrows = flow_arrows(ring["flows"], member_pos)
    return {
        "width": width,
        "height": height,
        "identifiers": ident_nodes,
        "accounts": account_nodes,
        "lines": lines,
        "arrows": arrows,
        "hidden_shared": max(0, len(ring["shared"]) - len(shared)),
        "kinds": colours,
        "actions": ACTION_COLOURS,
    }


def flow_arrows(flows: list[dict[str, Any]], member_pos: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """Money between members as curved arrows (bent to one side, so A->B and B->A both show)."""
    arrows = []
    for f in flows:
        a, b = f["account_id"], f["counterparty"]
        if a in member_pos and b in member_pos and a != b:
            (x1, y1), (x2, y2) = member_pos[a], member_pos[b]
            d = math.hypot(x2 - x1, y2 - y1) or 1.0
            ux, uy = (x2 - x1) / d, (y2 - y1) / d
            mx, my = (x1 + x2) / 2 + uy * d * 0.15, (y1 + y2) / 2 - ux * d * 0.15  # bend to one side
            arrows.append(
                {
                    "x1": x1 + ux * 14,
                    "y1": y1 + uy * 14,
                    "mx": mx,
                    "my": my,
                    "x2": x2 - ux * 18,
                    "y2": y2 - uy * 18,
                    "title": f"{a} paid {b} {f['amount']:,.2f} in {f['count']} payment(s)",
                }
            )
    return arrows
