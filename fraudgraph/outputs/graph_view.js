/* fraudgraph interactive subgraph view: a small force-directed layout drawn on a canvas.
   Reads its data from the JSON block #fraudgraph-data. Data only ever reaches
   the page through textContent / canvas text, never as markup. No network, no libraries. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("fraudgraph-data").textContent);
  var style = data.style;
  var canvas = document.getElementById("graph");
  var ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip");
  var colourMode = "risk";

  // ---- model -------------------------------------------------------------------------------
  var nodes = data.nodes.map(function (d, i) {
    // phyllotaxis start: deterministic, evenly spread, no two nodes on the same spot
    var r = 12 * Math.sqrt(i + 0.5), a = i * Math.PI * (3 - Math.sqrt(5));
    // which nodes carry a label, and its text, come from Python (subgraph.labelled_nodes /
    // node_label_text), so the PNG and this view label the same nodes the same way
    return {
      d: d, x: r * Math.cos(a), y: r * Math.sin(a), vx: 0, vy: 0, fixed: false, deg: 0, nbrs: [],
      labelled: data.labelled[i] === true, labelText: String(data.label_text[i])
    };
  });
  var byId = new Map();
  nodes.forEach(function (n, i) { byId.set(n.d.id, i); });
  var links = [];
  data.edges.forEach(function (e) {
    var s = byId.get(e.source), t = byId.get(e.target);
    if (s === undefined || t === undefined || s === t) return;
    links.push({ s: nodes[s], t: nodes[t], d: e, len: e.edge_type === "paid" ? 70 : 45 });
    nodes[s].deg++; nodes[t].deg++;
    nodes[s].nbrs.push(nodes[t]); nodes[t].nbrs.push(nodes[s]);
  });
  links.forEach(function (l) {
    l.bias = l.s.deg / (l.s.deg + l.t.deg);
    l.strength = 1 / Math.min(l.s.deg, l.t.deg);
  });

  // ---- simulation (velocity Verlet with cooling, as in d3-force) ---------------------------
  var alpha = 1, alphaMin = 0.001, alphaTarget = 0;
  var alphaDecay = 1 - Math.pow(alphaMin, 1 / Math.max(1, data.ticks || 300));
  var velocityDecay = 0.4, charge = -180, gravity = 0.04;

  function tick() {
    alpha += (alphaTarget - alpha) * alphaDecay;
    var n = nodes.length, i, j, a, b, dx, dy, l2, f;
    for (i = 0; i < n; i++) {          // all-pairs repulsion: fine for the few hundred nodes an export holds
      a = nodes[i];
      for (j = i + 1; j < n; j++) {
        b = nodes[j];
        dx = b.x - a.x; dy = b.y - a.y; l2 = dx * dx + dy * dy;
        if (l2 < 1) { dx = 0.5 + (i % 7) * 0.1; dy = 0.5 - (j % 5) * 0.1; l2 = 1; }
        f = charge * alpha / l2;
        a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
      }
    }
    links.forEach(function (l) {      // springs pull each edge toward its rest length
      var dx = l.t.x + l.t.vx - l.s.x - l.s.vx, dy = l.t.y + l.t.vy - l.s.y - l.s.vy;
      var len = Math.sqrt(dx * dx + dy * dy) || 1;
      var k = (len - l.len) / len * alpha * l.strength;
      dx *= k; dy *= k;
      l.t.vx -= dx * l.bias; l.t.vy -= dy * l.bias;
      l.s.vx += dx * (1 - l.bias); l.s.vy += dy * (1 - l.bias);
    });
    nodes.forEach(function (p) {      // gentle pull to the centre keeps separate components on screen
      p.vx -= p.x * gravity * alpha; p.vy -= p.y * gravity * alpha;
      if (p.fixed) { p.vx = 0; p.vy = 0; return; }
      p.vx *= 1 - velocityDecay; p.vy *= 1 - velocityDecay;
      p.x += p.vx; p.y += p.vy;
    });
  }

  // ---- colours -------------------------------------------------------------------------------
  function hexToRgb(h) { return [1, 3, 5].map(function (i) { return parseInt(h.substr(i, 2), 16); }); }
  function riskColour(score) {
    var stops = style.risk_stops, s = Math.max(0, Math.min(1, +score || 0));
    for (var i = 1; i < stops.length; i++) {
      if (s <= stops[i][0] || i === stops.length - 1) {
        var t = (s - stops[i - 1][0]) / ((stops[i][0] - stops[i - 1][0]) || 1);
        var c0 = hexToRgb(stops[i - 1][1]), c1 = hexToRgb(stops[i][1]);
        return "rgb(" + c0.map(function (c, k) { return Math.round(c + (c1[k] - c) * t); }).join(",") + ")";
      }
    }
    return stops[0][1];
  }
  function fillOf(p) {
    if (p.d.node_type === "identifier") return style.kind_colours[p.d.kind] || "#999";
    if (colourMode === "action") return style.action_colours[p.d.action] || "#90a4ae";
    return p.d.score_known === false ? "#b0bec5" : riskColour(p.d.score);
  }
  function radiusOf(p) {             // in screen pixels: zooming spreads nodes apart, it does not inflate them
    // shared identifiers are what the picture is about: large, and larger the more accounts share them
    if (p.d.node_type === "identifier") return Math.min(16, 8 + 2 * Math.sqrt(p.d.n_in_picture || 1));
    return p.d.seed ? 9 : 7;
  }

  // ---- view transform, drawing ---------------------------------------------------------------
  var view = { x: 0, y: 0, k: 1 }, fitK = 1, width = 0, height = 0, dpr = window.devicePixelRatio || 1;
  var hovered = null, selected = null, dragging = null, panning = null, matches = [];

  function resize() {
    var box = canvas.parentNode.getBoundingClientRect();
    width = Math.max(200, box.width); height = Math.max(200, box.height);
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
  }
  function fit() {
    if (!nodes.length) return;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    nodes.forEach(function (p) { x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y); });
    var padX = 95, top = 56, bottom = 34;  // room for the toolbar and for labels centred under the nodes
    view.k = fitK = Math.min((width - 2 * padX) / Math.max(x1 - x0, 1), (height - top - bottom) / Math.max(y1 - y0, 1), 4);
    view.x = width / 2 - view.k * (x0 + x1) / 2;
    view.y = top + (height - top - bottom) / 2 - view.k * (y0 + y1) / 2;
  }
  function labelOf(p) { return p.labelText; }
  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, width, height);
    ctx.translate(view.x, view.y); ctx.scale(view.k, view.k);
    var focus = hovered || selected, near = new Set(focus ? focus.nbrs.concat([focus]) : []);
    links.forEach(function (l) {
      var paid = l.d.edge_type === "paid", dim = focus && !(near.has(l.s) && near.has(l.t));
      ctx.globalAlpha = dim ? 0.15 : 0.85;
      ctx.strokeStyle = paid ? style.paid_edge : style.uses_edge;
      ctx.lineWidth = (paid ? 1.2 + Math.log10(1 + (l.d.amount || 0)) * 0.5 : 1) / view.k;
      ctx.beginPath(); ctx.moveTo(l.s.x, l.s.y); ctx.lineTo(l.t.x, l.t.y); ctx.stroke();
      if (paid) {                       // arrowhead at the payee's rim
        var dx = l.t.x - l.s.x, dy = l.t.y - l.s.y, len = Math.sqrt(dx * dx + dy * dy) || 1, r = (radiusOf(l.t) + 2) / view.k;
        var ex = l.t.x - dx / len * r, ey = l.t.y - dy / len * r, ux = dx / len * 9 / view.k, uy = dy / len * 9 / view.k;
        ctx.fillStyle = style.paid_edge; ctx.beginPath(); ctx.moveTo(ex, ey);
        ctx.lineTo(ex - ux - uy * 0.5, ey - uy + ux * 0.5); ctx.lineTo(ex - ux + uy * 0.5, ey - uy - ux * 0.5); ctx.fill();
      }
    });
    // p.labelled is the labelling rule computed in Python; zooming in (twice the fitted scale) shows every label
    var showAll = view.k >= 2 * fitK;
    nodes.forEach(function (p) {
      var r = radiusOf(p) / view.k, dim = focus && !near.has(p);
      ctx.globalAlpha = dim ? 0.25 : 1;
      ctx.fillStyle = fillOf(p); ctx.beginPath();
      if (p.d.node_type === "identifier") ctx.rect(p.x - r, p.y - r, 2 * r, 2 * r); else ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
      ctx.fill();
      var fraud = p.d.fraud_label === "fraud";
      ctx.setLineDash(p.d.is_hub ? [3 / view.k, 2 / view.k] : []);
      ctx.lineWidth = (fraud || p.d.is_hub ? 2.2 : 1.2) / view.k;
      ctx.strokeStyle = fraud || p.d.is_hub ? "#111" : "#fff";
      ctx.stroke(); ctx.setLineDash([]);
      if (p === selected || matches.indexOf(p) >= 0) {
        ctx.strokeStyle = "#0d47a1"; ctx.lineWidth = 2.5 / view.k; ctx.beginPath(); ctx.arc(p.x, p.y, r + 5 / view.k, 0, 2 * Math.PI); ctx.stroke();
      }
    });
    ctx.globalAlpha = 1;
    ctx.font = (11 / view.k) + "px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.lineWidth = 3 / view.k; ctx.strokeStyle = "rgba(255,255,255,0.85)"; ctx.fillStyle = "#263238";
    nodes.forEach(function (p) {
      if (!(showAll || p === focus || near.has(p) || p.labelled)) return;
      if (focus && !near.has(p)) return;
      var y = p.y + (radiusOf(p) + 2) / view.k;
      ctx.font = (p.d.node_type === "identifier" ? "bold " + (12 / view.k) : (11 / view.k)) + "px system-ui, sans-serif";
      ctx.strokeText(labelOf(p), p.x, y); ctx.fillText(labelOf(p), p.x, y);
    });
  }

  // ---- panel: title, legend, reasons, notes, details (textContent only) ---------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function legendRow(shape, colour, text, dashed) {
    var row = el("div", "legend-row"), sw = el("span", "swatch " + shape);
    sw.style.background = colour;
    if (dashed) sw.style.border = "2px dashed #111";
    row.appendChild(sw); row.appendChild(el("span", null, text));
    return row;
  }
  function buildLegend() {
    var box = document.getElementById("legend");
    box.textContent = "";
    if (colourMode === "risk") {
      box.appendChild(el("div", null, "Accounts (circles) by risk score"));
      var ramp = el("div", "ramp");
      ramp.style.background = "linear-gradient(to right," + style.risk_stops.map(function (s) { return s[1] + " " + s[0] * 100 + "%"; }).join(",") + ")";
      box.appendChild(ramp);
      var lab = el("div", "ramp-labels"); lab.appendChild(el("span", null, "0")); lab.appendChild(el("span", null, "0.5")); lab.appendChild(el("span", null, "1"));
      box.appendChild(lab);
    } else {
      box.appendChild(el("div", null, "Accounts (circles) by action"));
      Object.keys(style.action_colours).forEach(function (a) { box.appendChild(legendRow("circle", style.action_colours[a], a)); });
    }
    box.appendChild(legendRow("circle", "#cfd8dc", "larger: seed account"));
    var fr = legendRow("circle", "#cfd8dc", "black ring: labelled fraud"); fr.firstChild.style.border = "2px solid #111"; box.appendChild(fr);
    box.appendChild(el("div", null, "Identifiers (squares) by kind"));
    Object.keys(style.kind_colours).forEach(function (k) { box.appendChild(legendRow("", style.kind_colours[k], k.replace(/_/g, " "))); });
    box.appendChild(legendRow("", "#fff", "hub, shown but not expanded", true));
    box.appendChild(legendRow("line", style.uses_edge, "uses identifier"));
    box.appendChild(legendRow("line", style.paid_edge, "paid money (arrow to payee)"));
  }
  function pretty(v) {
    if (typeof v === "object" && v !== null) return JSON.stringify(v, null, 1);
    return String(v);
  }
  function buildPanel() {
    document.getElementById("title").textContent = data.title || "fraudgraph subgraph";
    document.getElementById("center").textContent = data.center || "";
    var na = nodes.filter(function (p) { return p.d.node_type === "account"; }).length;
    var own = data.private_identifiers || 0;
    document.getElementById("counts").textContent = na + " accounts, " + (nodes.length - na) + " shared identifiers" +
      (own ? "; " + own + " identifiers used by one account only are counted in its label (+N own)" : "");
    var reasons = document.getElementById("reasons");
    (data.reasons || []).forEach(function (r) {
      var li = el("li");
      if (r && typeof r === "object") {
        li.appendChild(el("div", "code", r.code || ""));
        li.appendChild(el("div", null, r.text || ""));
        if (r.evidence !== undefined && r.evidence !== null) li.appendChild(el("pre", null, pretty(r.evidence)));
      } else { li.textContent = pretty(r); }
      reasons.appendChild(li);
    });
    if (!reasons.children.length) reasons.appendChild(el("li", "muted", "none"));
    var notes = document.getElementById("notes");
    (data.notes || []).forEach(function (n) { notes.appendChild(el("li", null, n)); });
    if (!notes.children.length) notes.appendChild(el("li", "muted", "none"));
    buildLegend();
  }
  function showDetails(p) {
    var box = document.getElementById("details");
    box.textContent = "";
    if (!p) { box.appendChild(el("span", "muted", "Click a node to see its details.")); return; }
    var table = el("table", "details");
    function row(k, v) { var tr = el("tr"); tr.appendChild(el("th", null, k)); tr.appendChild(el("td", null, v)); table.appendChild(tr); }
    row("id", p.d.id);
    Object.keys(p.d).forEach(function (k) {
      if (k === "id" || /_known$/.test(k)) return;
      var v = p.d[k];
      if (p.d[k + "_known"] === false) v = "unknown";
      if (k === "raw_values") { try { v = JSON.parse(v).join("  |  "); } catch (e) { /* show as stored */ } }
      row(k, v);
    });
    row("neighbours", p.nbrs.length);
    box.appendChild(table);
  }

  // ---- interaction: drag nodes, pan, zoom, hover, click, search -----------------------------
  var running = false;
  function animate() {
    if (running) return;
    running = true;
    (function frame() {
      tick(); draw();
      if (alpha > alphaMin || dragging) requestAnimationFrame(frame); else running = false;
    })();
  }
  function toWorld(ev) {
    var b = canvas.getBoundingClientRect();
    return { sx: ev.clientX - b.left, sy: ev.clientY - b.top, x: (ev.clientX - b.left - view.x) / view.k, y: (ev.clientY - b.top - view.y) / view.k };
  }
  function nodeAt(w) {
    var best = null, bestD = Infinity;
    nodes.forEach(function (p) {
      var dx = p.x - w.x, dy = p.y - w.y, d = dx * dx + dy * dy, r = (radiusOf(p) + 3) / view.k;
      if (d <= r * r && d < bestD) { best = p; bestD = d; }
    });
    return best;
  }
  var downAt = null;
  canvas.addEventListener("pointerdown", function (ev) {
    var w = toWorld(ev), p = nodeAt(w);
    downAt = w;
    try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* synthetic or already released pointer */ }
    if (p) { dragging = p; p.fixed = true; alphaTarget = 0.3; alpha = Math.max(alpha, 0.3); animate(); }
    else { panning = { x: w.sx - view.x, y: w.sy - view.y }; canvas.style.cursor = "grabbing"; }
  });
  canvas.addEventListener("pointermove", function (ev) {
    var w = toWorld(ev);
    if (dragging) { dragging.x = w.x; dragging.y = w.y; return; }
    if (panning) { view.x = w.sx - panning.x; view.y = w.sy - panning.y; draw(); return; }
    var p = nodeAt(w);
    if (p !== hovered) { hovered = p; draw(); }
    if (p) {
      tooltip.hidden = false;
      tooltip.textContent = (p.d.node_type === "account" ? "account " + p.d.account_id + "\nscore " + (p.d.score_known === false ? "unknown" : (+p.d.score).toFixed(2)) + ", " + p.d.action + (p.d.private_identifiers ? "\n" + p.d.private_identifiers + " identifiers of its own" : "")
        : p.d.kind + " " + p.d.key + "\nshared by " + p.d.n_accounts + " accounts" + (p.d.is_hub ? " (hub)" : ""));
      tooltip.style.left = Math.min(w.sx + 14, width - 200) + "px"; tooltip.style.top = (w.sy + 14) + "px";
    } else { tooltip.hidden = true; }
  });
  function release(ev) {
    var w = toWorld(ev), moved = downAt && Math.abs(w.sx - downAt.sx) + Math.abs(w.sy - downAt.sy) > 4;
    if (!moved) { selected = nodeAt(w); showDetails(selected); }
    if (dragging) { dragging.fixed = false; alphaTarget = 0; }
    dragging = null; panning = null; downAt = null; canvas.style.cursor = ""; draw();
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointerleave", function () { if (hovered) { hovered = null; draw(); } tooltip.hidden = true; });
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var w = toWorld(ev), k = Math.max(0.05, Math.min(20, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = w.sx - w.x * k; view.y = w.sy - w.y * k; view.k = k; draw();
  }, { passive: false });
  document.getElementById("fit").addEventListener("click", function () { fit(); draw(); });
  document.getElementById("colour-mode").addEventListener("change", function (ev) { colourMode = ev.target.value; buildLegend(); draw(); });
  document.getElementById("search").addEventListener("input", function (ev) {
    var q = ev.target.value.trim().toLowerCase();
    matches = q ? nodes.filter(function (p) { return String(p.d.id).toLowerCase().indexOf(q) >= 0 || String(p.d.label).toLowerCase().indexOf(q) >= 0; }) : [];
    // one match, or one whose label is exactly the query: select it and centre on it
    var exact = matches.filter(function (p) { return String(p.d.label).toLowerCase() === q; });
    var pick = matches.length === 1 ? matches[0] : (exact.length === 1 ? exact[0] : null);
    if (pick) { selected = pick; showDetails(pick); view.x = width / 2 - pick.x * view.k; view.y = height / 2 - pick.y * view.k; }
    draw();
  });
  window.addEventListener("resize", function () { resize(); fit(); draw(); });

  // ---- first paint: settle the layout synchronously so the first frame (and a headless
  //      screenshot) already shows the final, deterministic picture ------------------------
  buildPanel();
  resize();
  for (var i = 0; i < (data.ticks || 300) && alpha > alphaMin; i++) tick();
  fit();
  draw();
  document.body.setAttribute("data-ready", String(nodes.length));
})();
