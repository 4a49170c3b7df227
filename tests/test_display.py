"""Notebook views: SVG DAG structure, layout of large pipelines, and rendering in headless Chromium.

The browser test needs Debian's chromium (``apt-get install chromium``); it is skipped, saying
so, where no chromium binary is on PATH.
"""

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
    rects = list(box.positions.values())
    for i, (x1, y1) in enumerate(rects):
        for x2, y2 in rects[i + 1 :]:
            assert abs(x1 - x2) >= display.BOX_WIDTH or abs(y1 - y2) >= display.BOX_HEIGHT, "boxes overlap"
    for a, b, _ in edges:
        assert box.positions[a][1] < box.positions[b][1], f"edge {a}->{b} does not point down"
    for c in range(6):  # chains stay straight: each chain keeps its column
        assert len({box.positions[f"C{c}S{i}"][0] for i in range(9)}) == 1
    assert box.width <= 2 * display.MARGIN + 6 * (display.BOX_WIDTH + display.COLUMN_GAP)
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
