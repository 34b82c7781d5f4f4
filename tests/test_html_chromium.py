"""The HTML export in a real browser: headless Chromium draws the graph, offline, the same way every time."""

from __future__ import annotations

import re
import subprocess

import matplotlib.image
import numpy as np
import pytest
from browser import CHROMIUM, HEADLESS_ARGS

from fraudgraph.outputs.export import KIND_COLOURS, RISK_STOPS, export_graph

try:
    from test_export import build_subgraph
except ImportError:  # tests/ made a package
    from tests.test_export import build_subgraph

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

WIDTH, HEIGHT, PANEL = 1200, 800, 360  # the side panel is 360 CSS px wide


def chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            *HEADLESS_ARGS,
            "--force-device-scale-factor=1",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={WIDTH},{HEIGHT}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def screenshot(tmp_path, page, name: str) -> np.ndarray:
    png = tmp_path / name
    result = chromium(tmp_path, f"--screenshot={png}", page.as_uri())
    assert png.exists(), result.stderr[-2000:]
    return (matplotlib.image.imread(png)[..., :3] * 255).round().astype(np.int16)


def pixels_near(image: np.ndarray, colour: str, tolerance: int = 10) -> int:
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).sum(axis=-1) <= tolerance).sum())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    (path,) = export_graph(build_subgraph(), out / "ring.html")
    return path


def test_headless_screenshot_shows_the_graph_nodes_and_legend(tmp_path, page):
    image = screenshot(tmp_path, page, "shot.png")
    assert image.shape[:2] == (HEIGHT, WIDTH)
    stage = image[60:, : WIDTH - PANEL - 10]  # the canvas, below the toolbar
    drawn = (np.abs(stage - 255).sum(axis=-1) > 30).mean()
    assert 0.01 < drawn < 0.5, f"{drawn:.1%} of the canvas is drawn"
    # identifier kinds (squares) and high-risk accounts (circles) are painted in their colours
    for kind in ("device", "address", "card", "phone", "email"):
        assert pixels_near(stage, KIND_COLOURS[kind]) >= 30, kind
    assert pixels_near(stage, "#6a1b9a", tolerance=40) >= 50  # money-flow arrows
    red = np.array([int(RISK_STOPS[-1][1][i : i + 2], 16) for i in (1, 3, 5)])
    reddish = (np.abs(stage - red).sum(axis=-1) <= 90).sum()
    assert reddish >= 100
    # the legend in the side panel shows the same kind colours
    panel = image[:, WIDTH - PANEL + 10 :]
    assert pixels_near(panel, KIND_COLOURS["device"]) >= 40
    # nodes are spread out: drawn pixels reach every quarter of the canvas
    h, w = stage.shape[:2]
    ink = np.abs(stage - 255).sum(axis=-1) > 30
    for quarter in (
        ink[: h // 2, : w // 2],
        ink[: h // 2, w // 2 :],
        ink[h // 2 :, : w // 2],
        ink[h // 2 :, w // 2 :],
    ):
        assert quarter.mean() > 0.002


def test_layout_is_deterministic_across_runs(tmp_path, page):
    first = screenshot(tmp_path, page, "a.png")
    second = screenshot(tmp_path, page, "b.png")
    assert np.array_equal(first, second)


def test_the_page_runs_offline_and_hostile_ids_stay_text(tmp_path, page):
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout
    ready = re.search(r'data-ready="(\d+)"', dom)
    assert ready and int(ready.group(1)) == 20, result.stderr[-2000:]  # the script ran to the end
    assert dom.count("<script") == 2  # nothing from the data became an element
    assert "<script>alert(" not in dom.replace('id="fraudgraph-data">', "")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in dom  # reason evidence shown as text
    assert "hub shown but not expanded" in dom


INTERACTION_SCRIPT = r"""
(function () {
  var out = {};
  try {
    var canvas = document.getElementById("graph"), box = canvas.getBoundingClientRect();
    var scale = canvas.width / box.width, data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    function centre(hex) {            // the centre of the pixels painted in one colour
      var r = parseInt(hex.substr(1, 2), 16), g = parseInt(hex.substr(3, 2), 16), b = parseInt(hex.substr(5, 2), 16);
      var sx = 0, sy = 0, n = 0;
      for (var i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <= 6) {
          var p = i / 4; sx += p % canvas.width; sy += Math.floor(p / canvas.width); n++;
        }
      }
      return n ? { x: box.left + sx / n / scale, y: box.top + sy / n / scale } : null;
    }
    function pointer(type, at) {
      canvas.dispatchEvent(new PointerEvent(type, { clientX: at.x, clientY: at.y, pointerId: 1, bubbles: true }));
    }
    var device = centre("DEVICE_COLOUR");
    out.found = !!device;
    pointer("pointermove", device);
    out.tooltip = document.getElementById("tooltip").hidden ? null : document.getElementById("tooltip").textContent;
    pointer("pointerdown", device); pointer("pointerup", device);
    out.clicked = document.getElementById("details").textContent;
    var search = document.getElementById("search");
    search.value = "o'brien"; search.dispatchEvent(new Event("input"));
    out.searched = document.getElementById("details").textContent;
    var mode = document.getElementById("colour-mode");
    mode.value = "action"; mode.dispatchEvent(new Event("change"));
    out.legend = document.getElementById("legend").textContent;
    canvas.dispatchEvent(new WheelEvent("wheel", { clientX: box.left + 200, clientY: box.top + 200, deltaY: -400, bubbles: true, cancelable: true }));
    out.zoomed = true;
  } catch (e) { out.error = String(e && e.stack || e); }
  document.body.setAttribute("data-test", JSON.stringify(out));
})();
"""


def test_hover_click_search_and_colour_mode_work(tmp_path):
    import base64
    import hashlib
    import html
    import json

    from fraudgraph.outputs.export import graph_to_html, prepare_graph

    graph = build_subgraph()
    script = INTERACTION_SCRIPT.replace("DEVICE_COLOUR", KIND_COLOURS["device"])
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    page_text = graph_to_html(prepare_graph(graph), graph)
    # the page's CSP pins its scripts by hash: allow this test script the same way
    page_text = page_text.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    page_text = page_text.replace("</body>", f"<script>{script}</script>\n</body>", 1)
    page = tmp_path / "interactive.html"
    page.write_text(page_text, encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    result = json.loads(html.unescape(re.search(r'data-test="([^"]*)"', dom).group(1)))
    assert "error" not in result, result.get("error")
    assert result["found"]
    assert result["tooltip"].startswith("device device:O'Brien") and "shared by" in result["tooltip"]
    assert "kinddevice" in result["clicked"] and "raw_values" in result["clicked"]
    assert "account_idO'Brien" in result["searched"] and "credit_limit1000" in result["searched"]
    assert "Accounts (circles) by action" in result["legend"] and "suspend" in result["legend"]
