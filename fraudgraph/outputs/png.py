"""A static PNG picture of the subgraph, drawn with matplotlib (the optional ``png`` extra).

Only this module imports matplotlib, so every other export works without it."""

from __future__ import annotations

import io
import logging
import math
import os
import warnings
from pathlib import Path
from typing import IO, Any

import networkx as nx
import numpy as np
import pandas as pd

from fraudgraph.outputs.subgraph import (
    PAID_EDGE_COLOUR,
    RISK_STOPS,
    USES_EDGE_COLOUR,
    ExportError,
    kind_colours,
    labelled_nodes,
    node_label_text,
    plain_label,
    prepare_graph,
    shared_first,
)

log = logging.getLogger(__name__)


def _layout(H: nx.DiGraph, seed: int) -> dict[str, np.ndarray]:
    """Seeded Fruchterman-Reingold positions. (Kamada-Kawai reads a little better on small graphs but
    took 0.8 s for 20 nodes here, most of a report's time, and distorts disconnected graphs.)"""
    U = H.to_undirected(as_view=True)
    n = U.number_of_nodes()
    if n == 0:
        return {}
    # a larger spacing than networkx's default 1/sqrt(n) keeps the dense core of a ring readable
    k = (4.5 if n <= 100 else 1.6) / math.sqrt(n)
    if n < 500 or n > 2500:
        return nx.spring_layout(U, seed=seed, k=k, iterations=200 if n <= 100 else 100)
    # From 500 nodes networkx switches to its sparse per-node loop (9 s at 500 nodes here, 14 s with
    # its default energy method); the same algorithm vectorized over an n x n array takes 0.3 s.
    return dense_spring_layout(U, seed=seed, k=k, iterations=100)


def dense_spring_layout(U: nx.Graph, *, seed: int, k: float, iterations: int) -> dict[str, np.ndarray]:
    """Fruchterman-Reingold as in networkx's dense layout: repulsion k^2/d between all pairs,
    attraction d^2/k along edges, a linearly cooling step; scaled into [-1, 1]."""
    from scipy.spatial.distance import cdist

    nodes = list(U)
    adjacency = nx.to_numpy_array(U, nodelist=nodes, weight=None)
    pos = np.random.default_rng(seed).random((len(nodes), 2))
    step = 0.1 * float((pos.max(axis=0) - pos.min(axis=0)).max())
    cooling = step / (iterations + 1)
    for _ in range(iterations):
        distance = np.maximum(cdist(pos, pos), 0.01)
        force = k * k / distance**2 - adjacency * distance / k
        # sum_j force_ij (pos_i - pos_j), without the n x n x 2 array of differences
        displacement = pos * force.sum(axis=1)[:, None] - force @ pos
        length = np.maximum(np.hypot(displacement[:, 0], displacement[:, 1]), 0.01)
        pos += displacement * (step / length)[:, None]
        step -= cooling
    pos -= pos.mean(axis=0)
    pos /= max(float(np.abs(pos).max()), 1e-12)
    return dict(zip(nodes, pos))


def render_png(
    G: nx.Graph,
    target: str | os.PathLike | IO[bytes],
    *,
    seed: int = 7,
    dpi: int = 100,
) -> None:
    """Draw the subgraph as a PNG, shared identifiers first (``shared_first``): accounts as circles
    coloured by risk score, each labelled with how many identifiers only it uses; identifiers two or
    more accounts share as large squares coloured by kind and labelled (hubs with a dashed outline);
    seed accounts larger, confirmed fraud outlined black, money flows as purple arrows; seeded
    layout, legend and title. The figure grows with the node count; labels follow
    ``labelled_nodes`` (the same rule as the HTML view).

    Uses matplotlib's Agg canvas directly (never pyplot), so it changes no global backend state.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.figure import Figure
    except ImportError:
        raise ExportError("PNG pictures need matplotlib, an optional part: pip install 'fraudgraph[png]'") from None

    full = prepare_graph(G)  # idempotent, so an already prepared graph passes through unchanged
    H = shared_first(full)
    n = H.number_of_nodes()
    side = float(np.clip(5.0 + 0.8 * math.sqrt(n), 7.0, 20.0))
    fig = Figure(figsize=(side + 3.2, side), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    pos = _layout(H, seed)

    risk_cmap = LinearSegmentedColormap.from_list("risk", list(RISK_STOPS))
    _draw_edges(ax, H, pos)
    node_size = float(np.clip(900 / math.sqrt(max(n, 1)), 30, 260))
    accounts = [(v, d) for v, d in H.nodes(data=True) if d["node_type"] == "account"]
    identifiers = [(v, d) for v, d in H.nodes(data=True) if d["node_type"] == "identifier"]
    colours = kind_colours(sorted({d["kind"] for _, d in identifiers}))
    _draw_identifiers(ax, H, pos, identifiers, colours, node_size)
    _draw_accounts(ax, pos, accounts, risk_cmap, node_size)
    _draw_labels(ax, H, pos, node_size)
    title = plain_label(H.graph.get("title") or "fraudgraph subgraph", 90)
    center = plain_label(H.graph.get("center") or "", 90)
    private = H.graph.get("private_identifiers", 0)
    counts = f"{len(accounts)} accounts, {len(identifiers)} shared identifiers" + (
        f", {private} used by one account only (counted as +N own)" if private else ""
    )
    ax.set_title(f"{title}\n{center + ' | ' if center else ''}{counts}", fontsize=12, loc="left").set_parse_math(False)
    _draw_legend(fig, ax, colours, risk_cmap)
    _fit_view(ax, pos)
    with warnings.catch_warnings():
        # ids in scripts the bundled font lacks (CJK, emoji) draw as boxes; that is fine, not a warning
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        fig.savefig(target, format="png", dpi=dpi, facecolor="white")


def _draw_edges(ax: Any, H: nx.DiGraph, pos: dict[str, np.ndarray]) -> None:
    """Identifier uses as thin grey lines; payments as purple arrows whose width grows with the amount."""
    from matplotlib.collections import LineCollection

    uses = [(pos[u], pos[v]) for u, v, d in H.edges(data=True) if d["edge_type"] == "uses"]
    if uses:
        ax.add_collection(LineCollection(uses, colors=USES_EDGE_COLOUR, linewidths=0.7, alpha=0.8, zorder=1))
    paid = [(u, v, d) for u, v, d in H.edges(data=True) if d["edge_type"] == "paid"]
    max_amount = max((d["amount"] for _, _, d in paid), default=1.0) or 1.0
    for u, v, d in paid:
        ax.annotate(
            "",
            xy=pos[v],
            xytext=pos[u],
            zorder=2,
            arrowprops=dict(
                arrowstyle="-|>",
                color=PAID_EDGE_COLOUR,
                alpha=0.85,
                shrinkA=6,
                shrinkB=6,
                linewidth=0.8 + 2.2 * math.sqrt(max(d["amount"], 0.0) / max_amount),
                mutation_scale=11,
            ),
        )


def _draw_identifiers(
    ax: Any,
    H: nx.DiGraph,
    pos: dict[str, np.ndarray],
    identifiers: list[tuple[str, dict[str, Any]]],
    colours: dict[str, str],
    node_size: float,
) -> None:
    """Identifiers as squares coloured by kind; hubs (not expanded) with a dashed dark outline."""
    for hub in (False, True):
        group = [(v, d) for v, d in identifiers if d["is_hub"] == hub]
        if not group:
            continue
        xy = np.array([pos[v] for v, _ in group])
        # shared identifiers are what links the ring: large, and larger the more accounts share them
        degree = np.array([H.degree(v) for v, _ in group], dtype=float)
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            marker="s",
            s=node_size * np.clip(1.2 + 0.45 * np.sqrt(degree), 1.8, 4.0),
            c=[colours[d["kind"]] for _, d in group],
            edgecolors="#222" if hub else "white",
            linewidths=1.4 if hub else 0.6,
            linestyles="--" if hub else "-",
            zorder=3,
        )


def _draw_accounts(
    ax: Any,
    pos: dict[str, np.ndarray],
    accounts: list[tuple[str, dict[str, Any]]],
    risk_cmap: Any,
    node_size: float,
) -> None:
    """Accounts as circles coloured by risk score; seeds larger, labelled fraud outlined black."""
    if not accounts:
        return
    xy = np.array([pos[v] for v, _ in accounts])
    seed_flags = np.array([d["seed"] for _, d in accounts])
    fraud_flags = np.array([d["fraud_label"] == "fraud" for _, d in accounts])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        marker="o",
        s=np.where(seed_flags, node_size * 1.5, node_size),
        c=[d["score"] for _, d in accounts],
        cmap=risk_cmap,
        vmin=0.0,
        vmax=1.0,
        edgecolors=np.where(fraud_flags, "black", "white").tolist(),
        linewidths=np.where(fraud_flags, 2.2, 0.8),
        zorder=4,
    )


def _draw_labels(ax: Any, H: nx.DiGraph, pos: dict[str, np.ndarray], node_size: float) -> None:
    """Text under the nodes ``labelled_nodes`` picks, in ``node_label_text`` (as the HTML view shows it)."""
    labelled = labelled_nodes(H)
    font_size = float(np.clip(11 - H.number_of_nodes() / 25, 6.5, 10))
    for v, d in H.nodes(data=True):
        if v in labelled:
            x, y = pos[v]
            shared = d["node_type"] == "identifier"
            ax.annotate(
                node_label_text(d["label"]),
                (x, y),
                xytext=(0, -9 - math.sqrt(node_size * (2.2 if shared else 1.0)) / 2),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=font_size + (1 if shared else 0),
                fontweight="bold" if shared else "normal",
                color="#263238",
                zorder=5,
                annotation_clip=False,
            ).set_parse_math(False)


def _draw_legend(fig: Any, ax: Any, colours: dict[str, str], risk_cmap: Any) -> None:
    """The legend to the right (node and edge kinds) and the risk colour bar underneath."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            ms=9,
            mfc=RISK_STOPS[-1][1],
            mec="white",
            label="account (colour = risk score)",
        ),
        Line2D([], [], marker="o", ls="", ms=11, mfc="#cfd8dc", mec="white", label="seed account (larger)"),
        Line2D([], [], marker="o", ls="", ms=9, mfc="#cfd8dc", mec="black", mew=2, label="labelled fraud"),
        *[
            Line2D([], [], marker="s", ls="", ms=8, mfc=c, mec="white", label=k.replace("_", " "))
            for k, c in colours.items()
        ],
        Line2D([], [], marker="s", ls="", ms=9, mfc="white", mec="#222", label="hub (not expanded)"),
        Line2D([], [], color=USES_EDGE_COLOUR, lw=1.2, label="uses identifier"),
        Line2D([], [], ls="", label="+N own: identifiers only that account uses"),
        Line2D([], [], color=PAID_EDGE_COLOUR, lw=2, marker=">", ms=6, label="paid (width = amount)"),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
        borderaxespad=0,
    )
    colorbar = fig.colorbar(
        ScalarMappable(norm=Normalize(0.0, 1.0), cmap=risk_cmap),
        ax=ax,
        location="bottom",
        fraction=0.025,
        shrink=0.35,
        pad=0.01,
    )
    colorbar.set_label("account risk score", fontsize=9)


def _fit_view(ax: Any, pos: dict[str, np.ndarray]) -> None:
    """Axis limits around every node with a small margin (scatter alone would clip the labels)."""
    if pos:
        xy = np.array(list(pos.values()))
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        margin = 0.08 * max(float((hi - lo).max()), 1e-9)
        ax.set_xlim(lo[0] - margin, hi[0] + margin)
        ax.set_ylim(lo[1] - margin, hi[1] + margin)


def write_png(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    render_png(H, path)


def timeline_png(members: pd.DataFrame, uses: pd.DataFrame) -> bytes | None:
    """A small strip chart: one row per member, a circle where the account opened, a coloured tick
    where it first used each identifier kind."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    created = pd.to_datetime(members.get("created_at", pd.Series(dtype=object)), errors="coerce", format="mixed")
    order = (
        pd.DataFrame({"account_id": members["account_id"].astype(str), "created": created})
        .sort_values(["created", "account_id"], na_position="last")
        .reset_index(drop=True)
    )
    if order["created"].isna().all() and uses.empty:
        return None
    row_of = {a: i for i, a in enumerate(order["account_id"])}
    n = len(order)
    fig = Figure(figsize=(9, float(np.clip(1.4 + 0.22 * n, 2.4, 10))), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    known = order.dropna(subset=["created"])
    ax.scatter(known["created"], known.index, marker="o", s=36, c="#263238", zorder=3, label="account opened")
    colours = kind_colours(sorted(uses["kind"].astype(str).unique()))
    for kind, group in uses.groupby(uses["kind"].astype(str)):
        rows = group["account_id"].astype(str).map(row_of)
        ax.scatter(group["first_seen"], rows, marker="|", s=140, linewidths=2, c=colours.get(kind, "#999"), zorder=2)
    ax.invert_yaxis()
    if n <= 40:
        ax.set_yticks(range(n), [_short(a) for a in order["account_id"]], fontsize=8)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{n} members, by opening date")
    ax.grid(axis="x", color="#e0e0e0")
    ax.set_title("Account openings and first use of identifiers", fontsize=10, loc="left")
    handles = [Line2D([], [], marker="o", ls="", color="#263238", label="account opened")] + [
        Line2D([], [], marker="|", ls="", ms=10, mew=2, color=c, label=f"first used {k.replace('_', ' ')}")
        for k, c in colours.items()
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    fig.autofmt_xdate()
    for text in ax.get_yticklabels():
        text.set_parse_math(False)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _short(text: str, limit: int = 24) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
