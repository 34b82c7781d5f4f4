"""One self-contained interactive HTML page of the subgraph (the script is graph_view.js): no
network access, the data inline as JSON, the label and colour rules computed here in Python."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

from fraudgraph.model.values import json_default
from fraudgraph.outputs.subgraph import (
    ACTION_COLOURS,
    PAID_EDGE_COLOUR,
    RISK_STOPS,
    USES_EDGE_COLOUR,
    graph_list,
    kind_colours,
    labelled_nodes,
    node_label_text,
    shared_first,
    to_text,
)

log = logging.getLogger(__name__)

_SCRIPT_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_json(value: Any) -> str:
    """JSON safe to place inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    JavaScript line separators are \\u-escaped, so no value (``</script>``, ``<!--``) can end the
    element; ``JSON.parse`` and ``json.loads`` give the original strings back."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=json_default, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_JSON_ESCAPES[m.group()], text)


def view_data(H: nx.DiGraph, G: nx.Graph | None = None) -> dict:
    """What the HTML view draws: nodes, edges, reasons and notes (structured), and the colour scheme."""
    source = G if G is not None else H
    labelled = labelled_nodes(H)
    kinds = sorted({d["kind"] for _, d in H.nodes(data=True) if d["node_type"] == "identifier"})
    return {
        "title": str(H.graph.get("title", "")),
        "center": str(H.graph.get("center", "")),
        "reasons": graph_list(source, "reasons"),
        "notes": [to_text(n) for n in graph_list(source, "notes")],
        "nodes": [{"id": n, **d} for n, d in H.nodes(data=True)],
        # the one labelling rule (also the PNG's), per node in the order of "nodes"
        "labelled": [n in labelled for n in H],
        "label_text": [node_label_text(d["label"]) for _, d in H.nodes(data=True)],
        "edges": [{"source": u, "target": v, **d} for u, v, d in H.edges(data=True)],
        "style": {
            "kind_colours": kind_colours(kinds),
            "risk_stops": [list(stop) for stop in RISK_STOPS],
            "action_colours": ACTION_COLOURS,
            "uses_edge": USES_EDGE_COLOUR,
            "paid_edge": PAID_EDGE_COLOUR,
        },
    }


_HTML_STYLE = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1c2733;background:#f4f6f8}
#app{display:flex;height:100vh}
#stage{position:relative;flex:1;min-width:0;background:#fff;border-right:1px solid #d5dbe1}
#graph{display:block;width:100%;height:100%;cursor:grab;touch-action:none}
#toolbar{position:absolute;top:8px;left:8px;display:flex;gap:6px;align-items:center;background:rgba(255,255,255,.92);border:1px solid #d5dbe1;border-radius:6px;padding:4px 6px}
#toolbar input,#toolbar select,#toolbar button{font:inherit}
#tooltip{position:absolute;pointer-events:none;background:#1c2733;color:#fff;padding:4px 7px;border-radius:4px;max-width:340px;white-space:pre-wrap;word-break:break-all;font-size:12px}
#panel{width:360px;flex:none;overflow:auto;padding:12px 14px}
#panel h1{font-size:17px;margin:0 0 4px;word-break:break-word}
#panel h2{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#56677a;margin:14px 0 6px}
#center,#counts{margin:2px 0;color:#3d4b59;word-break:break-word}
.legend-row{display:flex;align-items:center;gap:7px;margin:2px 0}
.swatch{width:12px;height:12px;flex:none;border:1px solid rgba(0,0,0,.35)}
.swatch.circle{border-radius:50%}
.swatch.line{height:3px;border:none}
.ramp{height:10px;width:150px;border:1px solid #bbb}
.ramp-labels{display:flex;justify-content:space-between;width:150px;font-size:11px;color:#56677a}
ol,ul{margin:0;padding-left:18px}
li{margin:0 0 6px;word-break:break-word}
.code{font-weight:600;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
pre{margin:3px 0 0;background:#eef1f4;padding:4px 6px;border-radius:4px;white-space:pre-wrap;word-break:break-all;font-size:11px;max-height:160px;overflow:auto}
table.details{border-collapse:collapse;width:100%}
table.details th{text-align:left;font-weight:600;color:#56677a;padding:1px 6px 1px 0;vertical-align:top;white-space:nowrap}
table.details td{padding:1px 0;word-break:break-all}
.muted{color:#7a8896}
"""

_HTML_BODY = """<div id="app">
<div id="stage"><canvas id="graph" aria-label="subgraph"></canvas>
<div id="toolbar"><button id="fit" type="button">Fit</button>
<label>Accounts by <select id="colour-mode"><option value="risk">risk score</option><option value="action">action</option></select></label>
<input id="search" type="search" placeholder="find account / identifier" size="22"></div>
<div id="tooltip" hidden></div></div>
<aside id="panel">
<h1 id="title"></h1><p id="center"></p><p id="counts"></p>
<h2>Legend</h2><div id="legend"></div>
<h2>Selected</h2><div id="details"><span class="muted">Click a node to see its details; drag to move it, scroll to zoom, drag the background to pan.</span></div>
<h2>Reasons</h2><ol id="reasons"></ol>
<h2>Notes</h2><ul id="notes"></ul>
</aside></div>
"""


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def graph_view_js() -> str:
    """The interactive view's JavaScript (fraudgraph/outputs/graph_view.js, shipped with the package)."""
    return resources.files("fraudgraph.outputs").joinpath("graph_view.js").read_text(encoding="utf-8")


def graph_to_html(H: nx.DiGraph, G: nx.Graph | None = None, *, ticks: int = 300) -> str:
    """One self-contained HTML page showing the prepared subgraph: no network access at all (a
    Content-Security-Policy with ``default-src 'none'`` forbids it; only this page's own script and
    style, pinned by hash, may run). The layout is computed synchronously (``ticks`` steps of the force
    simulation) before the first paint, from a deterministic start, so screenshots are reproducible."""
    picture = shared_first(H)  # the same shared-identifier-first picture as the PNG
    data = view_data(picture, G)
    data["private_identifiers"] = int(picture.graph.get("private_identifiers", 0))
    data["ticks"] = int(ticks)
    js = graph_view_js()
    csp = (
        f"default-src 'none'; script-src {csp_hash(js)}; style-src {csp_hash(_HTML_STYLE)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = data["title"] or "fraudgraph subgraph"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
        f"{_HTML_BODY}"
        f'<script type="application/json" id="fraudgraph-data">{script_json(data)}</script>\n'
        f"<script>{js}</script>\n</body>\n</html>\n"
    )


def write_html(H: nx.DiGraph, G: nx.Graph, path: Path) -> None:
    path.write_text(graph_to_html(H, G), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# PNG: a static matplotlib picture
# --------------------------------------------------------------------------------------------
