"""Notebook views: SVG DAG structure, layout of large pipelines, and rendering in headless Chromium.

The browser test needs Debian's chromium (``apt-get install chromium``); it is skipped, saying
so, where no chromium binary is on PATH.
"""

import html as html_lib
import json
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest
import selective_lib
from sagepipe import display
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(html: str) -> ET.Element:
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])


def boxes(svg: ET.Element):
    return {g.get("data-step"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "step"}


@pytest.fixture
def failed_execution(session, tmp_path):
    pipeline = selective_lib.build(session, tmp_path)
    selective_lib.set_mode(str(tmp_path), "Train", "bad")
    execution = pipeline.start()
    execution.wait()
    return pipeline, execution


def test_execution_svg_structure(failed_execution):
    _, execution = failed_execution
    svg = svg_of(execution._repr_html_())
    steps = boxes(svg)
    assert set(steps) == set(selective_lib.STEPS)
    states = {name: g.get("data-state") for name, g in steps.items()}
    assert states == {
        "Preprocess": "succeeded", "Train": "failed", "Evaluate": "not-run", "Check": "not-run",
        "Register": "not-run", "Fail": "not-run",
    }  # fmt: skip
    for name, g in steps.items():
        rect = g.find(f"{SVG}rect")
        assert rect.get("fill") == display.STATE_COLOURS[states[name]]
        assert g.find(f"{SVG}text").text == name
    edges = [(p.get("data-from"), p.get("data-to")) for p in svg.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert sorted(edges) == sorted([
        ("Preprocess", "Train"), ("Train", "Evaluate"), ("Evaluate", "Check"), ("Check", "Register"),
        ("Check", "Fail"), ("Evaluate", "Register"), ("Evaluate", "Fail"),
    ])  # fmt: skip
    labels = sorted(t.text for t in svg.iter(f"{SVG}text") if t.text in ("if", "else"))
    assert labels == ["else", "if"]
    y = {name: float(g.find(f"{SVG}rect").get("y")) for name, g in steps.items()}
    assert y["Preprocess"] < y["Train"] < y["Evaluate"] < y["Check"] < y["Register"] == y["Fail"]


def test_pipeline_and_plan_views(failed_execution, tmp_path):
    pipeline, execution = failed_execution
    defined = boxes(svg_of(pipeline._repr_html_()))
    assert {g.get("data-state") for g in defined.values()} == {"defined"}
    selective_lib.set_mode(str(tmp_path), "Train", "ok")
    plan = pipeline.plan(SelectiveExecutionConfig(["Train", "Evaluate"], source_pipeline_execution_arn=execution.arn))
    html = plan._repr_html_()
    planned = {name: g.get("data-state") for name, g in boxes(svg_of(html)).items()}
    assert planned["Preprocess"] == "reused" and planned["Train"] == planned["Evaluate"] == "planned"
    assert planned["Register"] == "not-selected"
    assert "upstream of a selected step" in html


def test_layout_of_a_large_pipeline_is_layered_without_overlaps():
    """60 steps: 6 parallel chains of 9, fanned out from one step and into a final step and more."""
    steps, edges = [{"name": "Start", "type": "Processing"}], []
    for chain in range(6):
        previous = "Start"
        for i in range(9):
            name = f"C{chain}S{i}"
            steps.append({"name": name, "type": "Training"})
            edges.append([previous, name, "Data"])
            previous = name
        edges.append([previous, "Join", "DependsOn"])
    steps += [{"name": "Join", "type": "Processing"}, {"name": "Report", "type": "Processing"}]
    steps += [{"name": f"Extra{i}", "type": "Processing"} for i in range(3)]
    edges += [["Join", "Report", "Data"]] + [["Report", f"Extra{i}", "Data"] for i in range(3)]
    order = ["Start"] + [f"C{c}S{i}" for i in range(9) for c in range(6)] + ["Join", "Report"]
    dag = {"steps": steps, "edges": edges, "order": order + [f"Extra{i}" for i in range(3)]}
    assert len(steps) == 60
    box = display.layout(dag)
    assert len(box.layers) == 13 and max(len(layer) for layer in box.layers) == 6
    rects = [(x, y, *box.sizes[name]) for name, (x, y) in box.positions.items()]
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, "boxes overlap"
    for a, b, _ in edges:
        assert box.positions[a][1] < box.positions[b][1], f"edge {a}->{b} does not point down"
    for c in range(6):  # chains stay straight: each chain keeps its column
        assert len({box.positions[f"C{c}S{i}"][0] for i in range(9)}) == 1
    widest = max(w for _, _, w, _ in rects)
    assert box.width <= 2 * display.MARGIN + 6 * (widest + display.COLUMN_GAP)
    svg = ET.fromstring(display.render_svg(dag, {}))
    assert len(boxes(svg)) == 60


def _png_pixels(data: bytes):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append([tuple(line[x * channels : x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH: install Debian's (apt-get install chromium)")
def test_execution_view_renders_in_headless_chromium(failed_execution, tmp_path):
    _, execution = failed_execution
    page = tmp_path / "execution.html"
    page.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{execution._repr_html_()}</body></html>")
    shot = tmp_path / "execution.png"
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=800,900",
        f"--screenshot={shot}", page.as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (800, 900)

    def pixels_of(state: str):
        hex_colour = display.STATE_COLOURS[state].lstrip("#")
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
        return [(x, y) for y, row in enumerate(rows) for x, value in enumerate(row) if value == rgb]

    succeeded, failed, not_run = pixels_of("succeeded"), pixels_of("failed"), pixels_of("not-run")
    box_area = display.BOX_WIDTH * display.BOX_HEIGHT
    assert len(succeeded) > box_area // 2  # Preprocess's box (and its legend swatch)
    assert len(failed) > box_area // 2  # Train's box
    assert len(not_run) > 3 * box_area // 2  # the four steps that never ran
    # Preprocess is drawn above Train: the layered layout survived rendering
    assert min(y for _, y in succeeded if y > 60) < min(y for _, y in failed if y > 60)


def _dag(steps, edges):
    """A DAG as the engine gives it: steps ``(name, type)``, edges ``(from, to, kind)``."""
    return {
        "steps": [{"name": n, "type": t} for n, t in steps],
        "edges": [list(e) for e in edges],
        "order": [n for n, _ in steps],
    }


LONG_A = "PreprocessAbaloneDatasetWithAVeryLongStepName"
LONG_B = "TrainXGBoostModelForAbaloneAgePredictionMMWW"
SHAPES = {
    # a diamond with a shortcut from its top to its bottom: drawn straight, the shortcut would
    # run behind B or C, and the diamond would look like a chain
    "diamond": _dag(
        [("A", "Processing"), ("B", "Training"), ("C", "Training"), ("D", "Processing")],
        [("A", "B", "Data"), ("A", "C", "Data"), ("B", "D", "Data"), ("C", "D", "Data"), ("A", "D", "DependsOn")],
    ),
    "chain-with-shortcut": _dag(
        [("A", "Processing"), ("B", "Training"), ("C", "Evaluate"), ("D", "Processing")],
        [("A", "B", "Data"), ("B", "C", "Data"), ("C", "D", "Data"), ("A", "D", "Data"), ("A", "C", "Data")],
    ),
    "long-names": _dag(
        [(LONG_A, "Processing"), (LONG_B, "Training"), ("W", "Processing"), ("WWWWWWWWWWWWWWWWWWWWWWWW", "Transform")],
        [
            (LONG_A, LONG_B, "Data"),
            (LONG_B, "W", "Data"),
            (LONG_A, "W", "Data"),
            (LONG_A, "WWWWWWWWWWWWWWWWWWWWWWWW", "Data"),
        ],
    ),
    "fan-out": _dag(
        [("Start", "Processing")] + [(f"Worker{i}", "Training") for i in range(10)] + [("Join", "Processing")],
        [("Start", f"Worker{i}", "Data") for i in range(10)]
        + [(f"Worker{i}", "Join", "Data") for i in range(10)]
        + [("Start", "Join", "DependsOn")],
    ),
    "condition": _dag(
        [
            ("Train", "Training"),
            ("Evaluate", "Processing"),
            ("CheckMse", "Condition"),
            ("RegisterModel", "RegisterModel"),
            ("Transform", "Transform"),
            ("FailOnMse", "Fail"),
        ],
        [
            ("Train", "Evaluate", "Data"),
            ("Evaluate", "CheckMse", "Data"),
            ("CheckMse", "RegisterModel", "If"),
            ("CheckMse", "Transform", "If"),
            ("CheckMse", "FailOnMse", "Else"),
            ("Train", "RegisterModel", "Data"),
            ("Train", "Transform", "Data"),
            ("Evaluate", "FailOnMse", "Data"),
        ],
    ),
}

# Runs in the page: the geometry Chromium rendered (boxes, their texts, edge paths sampled every
# pixel, edge labels), written as JSON into <pre id="geometry"> for --dump-dom.
GEOMETRY_SCRIPT = """
const box = (e) => { const b = e.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
const figures = [];
for (const figure of document.querySelectorAll("[data-shape]")) {
  const svg = figure.querySelector("svg.sagepipe-dag");
  const steps = {};
  for (const g of svg.querySelectorAll("g.step")) {
    steps[g.dataset.step] = Object.assign(box(g.querySelector("rect")),
      {texts: [...g.querySelectorAll("text")].map((t) => Object.assign(box(t), {text: t.textContent}))});
  }
  const edges = [...svg.querySelectorAll("path.edge")].map((p) => {
    const length = p.getTotalLength(), points = [];
    for (let l = 0; l < length; l += 1) { const q = p.getPointAtLength(l); points.push([q.x, q.y]); }
    const end = p.getPointAtLength(length);
    points.push([end.x, end.y]);
    return {from: p.dataset.from, to: p.dataset.to, points};
  });
  const labels = [...svg.querySelectorAll("text.edge-label")].map(box);
  figures.push({shape: figure.dataset.shape, steps, edges, labels});
}
document.getElementById("geometry").textContent = JSON.stringify(figures);
"""


def _rendered_geometry(figures, tmp_path):
    """``{shape: geometry}`` of SVG figures as headless Chromium lays them out."""
    body = "".join(f'<div data-shape="{name}">{html}</div>' for name, html in figures.items())
    page = tmp_path / "shapes.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"{body}<pre id='geometry'></pre><script>{GEOMETRY_SCRIPT}</script></body></html>"
    )
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    start = dom.index('<pre id="geometry">') + len('<pre id="geometry">')
    text = dom[start : dom.index("</pre>", start)]
    return {f["shape"]: f for f in json.loads(html_lib.unescape(text))}


def _inside(point, rect, inset: float) -> bool:
    x, y = point
    return (
        rect["x"] + inset < x < rect["x"] + rect["w"] - inset and rect["y"] + inset < y < rect["y"] + rect["h"] - inset
    )


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH: install Debian's (apt-get install chromium)")
def test_rendered_edges_pass_no_box_and_texts_fit_their_boxes(failed_execution, tmp_path):
    """In Chromium: no edge passes over a box other than its two ends (nor through those), every
    text lies within its box, and no box or edge label overlaps a box."""
    figures = {name: display.render_svg(dag, {}) for name, dag in SHAPES.items()}
    _, execution = failed_execution
    figures["execution"] = svg_html = execution._repr_html_()
    assert "<svg" in svg_html
    geometry = _rendered_geometry(figures, tmp_path)
    assert set(geometry) == set(figures)
    for shape, figure in geometry.items():
        steps = figure["steps"]
        expected = SHAPES[shape]["steps"] if shape in SHAPES else [{"name": n} for n in selective_lib.STEPS]
        assert set(steps) == {s["name"] for s in expected}, shape
        for name, rect in steps.items():
            for text in rect["texts"]:
                assert rect["x"] + 2 <= text["x"] and text["x"] + text["w"] <= rect["x"] + rect["w"] - 2, (
                    f"{shape}: text {text['text']!r} ({text['x']:.1f}..{text['x'] + text['w']:.1f}) runs past "
                    f"its box ({rect['x']:.1f}..{rect['x'] + rect['w']:.1f})"
                )
                assert rect["y"] <= text["y"] and text["y"] + text["h"] <= rect["y"] + rect["h"], (shape, text)
            for other, rect2 in steps.items():
                corners = [(rect2["x"] + dx, rect2["y"] + dy) for dx in (0, rect2["w"]) for dy in (0, rect2["h"])]
                assert other == name or not any(_inside(c, rect, 0) for c in corners), (
                    f"{shape}: {name} and {other} overlap"
                )
        assert figure["edges"], shape
        for edge in figure["edges"]:
            points, ends = edge["points"], (edge["from"], edge["to"])
            assert len(points) > 10, edge
            for name, rect in steps.items():
                crossing = [p for p in points if _inside(p, rect, 1.0)]
                assert not crossing, (
                    f"{shape}: edge {edge['from']} -> {edge['to']} passes "
                    f"{'through its own end' if name in ends else 'behind'} box {name} at {crossing[0]}"
                )
            source, target = steps[edge["from"]], steps[edge["to"]]
            (x0, y0), (x1, y1) = points[0], points[-1]
            assert abs(y0 - (source["y"] + source["h"])) < 1 and source["x"] < x0 < source["x"] + source["w"], edge
            assert abs(y1 - target["y"]) < 1 and target["x"] < x1 < target["x"] + target["w"], edge
        for label in figure["labels"]:
            for name, rect in steps.items():
                corners = [(label["x"] + dx, label["y"] + dy) for dx in (0, label["w"]) for dy in (0, label["h"])]
                assert not any(_inside(c, rect, 0) for c in corners), f"{shape}: an edge label overlaps {name}"
    assert len(geometry["condition"]["labels"]) == 3  # if, if, else
    # the diamond's shortcut is drawn beside B and C, not through them: it is not a chain
    shortcut = next(e for e in geometry["diamond"]["edges"] if (e["from"], e["to"]) == ("A", "D"))
    b, c = geometry["diamond"]["steps"]["B"], geometry["diamond"]["steps"]["C"]
    middle = [x for x, y in shortcut["points"] if b["y"] < y < b["y"] + b["h"]]
    assert middle and all(not (r["x"] <= x <= r["x"] + r["w"]) for x in middle for r in (b, c))
