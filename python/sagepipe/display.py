"""Notebook and terminal views of pipelines, executions and plans.

``Pipeline``, executions and plans have ``_repr_html_``, so Jupyter shows them as an SVG DAG:
steps as boxes in layers (each step below everything it depends on), edges from dependency to
dependent (dashed for ``DependsOn``-only edges, labelled ``if``/``else`` for condition branches),
and boxes coloured by state. The DAG comes from the engine's own graph
(``sagepipe._core.compile_definition``), so what is drawn is what runs.

States: ``succeeded``, ``failed``, ``running``, ``stopped``, ``reused`` (Selective Execution),
``cache-hit``, ``not-selected`` (left out of a Selective Execution), ``not-run`` (other branch, or
not reached), ``pending`` (not started yet), ``planned`` (a plan's ``run``), ``refused`` (a plan's
step that cannot run locally, so the start would be refused) and ``defined`` (a pipeline with no
execution).
"""

import json
import math
import time
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sagepipe._responses import is_terminal


def _escape(text: str) -> str:
    import html  # only when a view is rendered as HTML (html.entities is large)

    return html.escape(text)


__all__ = [
    "STATE_COLOURS",
    "DagLayout",
    "dag_of_definition",
    "execution_html",
    "execution_states",
    "layout",
    "pipeline_html",
    "plan_html",
    "plan_states",
    "render_svg",
    "steps_table_html",
    "text_dag",
]

STATE_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "running": "#1565c0",
    "stopped": "#6d4c41",
    "reused": "#6a1b9a",
    "cache-hit": "#00838f",
    "not-selected": "#78909c",
    "not-run": "#9e9e9e",
    "pending": "#bdbdbd",
    "planned": "#ef6c00",
    "refused": "#ad1457",
    "defined": "#546e7a",
}


BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 120, 44, 28, 46, 16  # BOX_WIDTH: the narrowest box
BOX_PADDING = 12  # between a box's edge and its widest text
NAME_SIZE, SUBTITLE_SIZE = 13, 11  # font sizes (px) of a box's step name (bold) and its type line
EDGE_LANE, EDGE_GAP = 8, 10  # the room an edge takes where it passes a layer, and its distance to its neighbours

# Advance widths in hundredths of an em of the printable ASCII characters (32-126), then of
# "\u00b7" and "\u2026": the wider of DejaVu Sans and Liberation Sans (the fonts the SVG names,
# and what Helvetica and Arial resolve to on Linux), measured in Chromium and rounded up.
# Anything else counts as 1.1 em. Boxes are sized from these, so names never run past them.
_BOLD_WIDTHS = (
    35, 46, 53, 84, 70, 101, 88, 31, 46, 46, 53, 84, 38, 42, 38, 37, 70, 70, 70, 70, 70, 70, 70, 70, 70, 70, 40, 40,
    84, 84, 84, 62, 100, 78, 77, 74, 84, 69, 69, 83, 84, 38, 56, 78, 64, 100, 84, 86, 74, 86, 78, 73, 69, 82, 78, 111,
    78, 73, 73, 46, 37, 46, 84, 56, 50, 68, 72, 60, 72, 68, 44, 72, 72, 35, 35, 67, 35, 105, 72, 69, 72, 72, 50, 60, 48,
    72, 66, 93, 65, 66, 59, 72, 37, 72, 84, 38, 100,
)  # fmt: skip
_REGULAR_WIDTHS = (
    32, 41, 46, 84, 64, 96, 78, 28, 40, 40, 50, 84, 32, 37, 32, 34, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 34, 34,
    84, 84, 84, 56, 102, 69, 69, 73, 78, 67, 62, 78, 76, 30, 50, 67, 56, 87, 75, 79, 67, 79, 73, 67, 62, 74, 69, 99,
    69, 67, 69, 40, 34, 40, 84, 56, 50, 62, 64, 55, 64, 62, 36, 64, 64, 28, 28, 58, 28, 98, 64, 62, 64, 64, 42, 53, 40,
    64, 60, 82, 60, 60, 53, 64, 34, 64, 84, 32, 100,
)  # fmt: skip
_OTHER_WIDTH = 110


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A safe estimate (never short in the fonts the SVG names) of ``text``'s width in px."""
    table = _BOLD_WIDTHS if bold else _REGULAR_WIDTHS
    total = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code < 127:
            total += table[code - 32]
        else:
            total += {"\u00b7": table[95], "\u2026": table[96]}.get(ch, _OTHER_WIDTH)
    return total * size / 100


def box_width(name: str, subtitle: str) -> float:
    """The width of a step's box: its name and its type line fit, with padding."""
    widest = max(text_width(name, NAME_SIZE, bold=True), text_width(subtitle, SUBTITLE_SIZE))
    return float(max(BOX_WIDTH, math.ceil(widest + 2 * BOX_PADDING)))


def dag_of_definition(definition: str, name: str) -> Dict[str, Any]:
    """The engine's view of a definition: ``{"steps", "edges", "order"}``."""
    from sagepipe import _core

    return json.loads(_core.compile_definition(definition, name))


def step_state(record: Optional[Dict[str, Any]], execution_status: str, selected: bool = True) -> str:
    """The display state of one step record (``None``: the step has no record; ``selected``
    False: a Selective Execution left the step out)."""
    if record is None:
        if not selected:
            return "not-selected"
        return "pending" if not is_terminal(execution_status) else "not-run"
    if record.get("SelectiveExecutionResult"):
        return "reused"
    if record.get("CacheHitResult"):
        return "cache-hit"
    status = record.get("StepStatus", "")
    return {
        "Succeeded": "succeeded",
        "Failed": "failed",
        "Stopped": "stopped",
        "Stopping": "stopped",
        "Starting": "running",
        "Executing": "running",
    }.get(status, "pending")


def execution_states(
    execution, dag: Optional[Dict[str, Any]] = None
) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]], Dict[str, Any]]:
    """``(dag, {step: {"state", "record"}}, execution record)`` of an execution, read live
    (pass the ``dag`` of an earlier call to skip compiling the definition again)."""
    store = execution._store
    record = json.loads(store.load_execution(execution.arn))
    if dag is None:
        dag = dag_of_definition(store.execution_definition(execution.arn), record["PipelineName"])
    by_name = {r["StepName"]: r for r in json.loads(store.load_steps(execution.arn))}
    status = record["PipelineExecutionStatus"]
    selective = record.get("SelectiveExecutionConfig") or {}
    selected = {s["StepName"] for s in selective.get("SelectedSteps") or []} if selective else None
    # A Selective Execution reuses the steps upstream of the selected ones (their records come
    # when the run gets to them) and leaves the others out.
    reused = _upstream(dag, selected) - selected if selected is not None and not is_terminal(status) else set()
    source = (selective.get("SourcePipelineExecutionArn") or "").rsplit("/", 1)[-1]
    states = {}
    for s in dag["steps"]:
        name, step_record = s["name"], by_name.get(s["name"])
        if step_record is None and name in reused:
            states[name] = {"state": "reused", "record": None, "reused_from": source}
            continue
        in_run = selected is None or name in selected
        states[name] = {"state": step_state(step_record, status, in_run), "record": step_record}
    return dag, states, record


def _upstream(dag: Dict[str, Any], steps) -> set:
    """``steps`` and every step they depend on, directly or not."""
    parents: Dict[str, List[str]] = defaultdict(list)
    for a, b, _ in dag["edges"]:
        parents[b].append(a)
    seen, pending = set(), list(steps)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(parents[name])
    return seen


def plan_states(plan) -> Dict[str, Dict[str, Any]]:
    """States of a plan's entries: ``run`` is planned, ``reuse`` reused, ``cache-hit`` a cache hit,
    ``refused`` refused, the rest not run."""
    action_state = {
        "run": "planned",
        "reuse": "reused",
        "cache-hit": "cache-hit",
        "not-selected": "not-selected",
        "refused": "refused",
    }
    return {e["step"]: {"state": action_state.get(e["action"], "pending"), "entry": e} for e in plan.entries}


class DagLayout:
    """A layered DAG layout (top to bottom).

    ``positions``: the top-left corner of each step's box; ``sizes``: its ``(width, height)``;
    ``layers``: the steps of each layer, left to right; ``routes``: for each edge ``(a, b)``, the
    points it passes: from ``a``'s bottom edge, down through one lane in each layer it crosses,
    to ``b``'s top edge. Consecutive points alternate between the gap below a layer (even
    index to odd) and a lane through a layer (odd to even), so no edge passes behind a box.
    """

    def __init__(
        self,
        positions: Dict[str, Tuple[float, float]],
        width: float,
        height: float,
        layers: List[List[str]],
        sizes: Optional[Dict[str, Tuple[float, float]]] = None,
        routes: Optional[Dict[Tuple[str, str], List[Tuple[float, float]]]] = None,
    ):
        self.positions = positions
        self.width = width
        self.height = height
        self.layers = layers
        self.sizes = sizes or {name: (float(BOX_WIDTH), float(BOX_HEIGHT)) for name in positions}
        self.routes = routes or {}


def _unique_edges(edges: Sequence[Sequence[str]]) -> Dict[Tuple[str, str], List[str]]:
    kinds: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for a, b, kind in edges:
        if kind not in kinds[(a, b)]:
            kinds[(a, b)].append(kind)
    return kinds


def _subtitle(step_type: str, state: str) -> str:
    return _short(f"{step_type} \u00b7 {state}", 26)


def layout(dag: Dict[str, Any], widths: Optional[Dict[str, float]] = None) -> DagLayout:
    """Layered (Sugiyama-style) layout.

    A step's layer is its longest dependency path. An edge that skips layers passes through a
    lane in each layer in between (a dummy node of the layout), so it never runs behind a box.
    Within a layer, steps and lanes are ordered by the mean position of their neighbours (a
    few barycentre sweeps keep crossings low), then placed as near that mean as their widths
    allow, so chains stay straight and a 50+ step pipeline stays readable. ``widths``: box
    widths by step (default: to fit each step's name and type).
    """
    names = [s["name"] for s in dag["steps"]]
    if widths is None:
        types = {s["name"]: s.get("type") or "" for s in dag["steps"]}
        widths = {n: box_width(n, _subtitle(types[n], "not-selected")) for n in names}
    known = set(names)
    order = [n for n in dag.get("order") or names if n in known]
    edges = [(a, b) for (a, b) in _unique_edges(dag["edges"]) if a in known and b in known and a != b]
    parents: Dict[str, List[str]] = defaultdict(list)
    for a, b in edges:
        parents[b].append(a)
    level: Dict[str, int] = {}
    for name in order:  # topological order from the engine
        level[name] = 1 + max((level[p] for p in parents[name] if p in level), default=-1)
    for name in names:
        level.setdefault(name, 0)
    depth = max(level.values(), default=-1) + 1
    rows: List[List[str]] = [[] for _ in range(depth)]
    for name in order + [n for n in names if n not in set(order)]:
        rows[level[name]].append(name)

    # Nodes of the layout: the steps, and one lane per layer an edge passes through.
    up: Dict[str, List[str]] = defaultdict(list)
    down: Dict[str, List[str]] = defaultdict(list)
    node_width = {n: widths.get(n, float(BOX_WIDTH)) for n in names}
    chains: Dict[Tuple[str, str], List[str]] = {}
    for a, b in edges:
        chain = [a] + [f"\0{a}\0{b}\0{row}" for row in range(level[a] + 1, level[b])] + [b]
        for row, lane in enumerate(chain[1:-1], start=level[a] + 1):
            rows[row].append(lane)
            node_width[lane] = float(EDGE_LANE)
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        chains[(a, b)] = chain

    index = {n: i for row in rows for i, n in enumerate(row)}

    def sweep(neighbours: Dict[str, List[str]], sweep_rows: Sequence[List[str]]) -> None:
        for row in sweep_rows:

            def key(n: str) -> float:
                linked = [index[m] for m in neighbours[n]]
                return sum(linked) / len(linked) if linked else index[n]

            row.sort(key=key)
            index.update({n: i for i, n in enumerate(row)})

    # Fewer refining rounds for huge layouts (an edge skipping n layers adds n nodes), so even a
    # pathological pipeline renders in a second or two.
    rounds = max(1, min(4, _ROUNDS_BUDGET // max(len(index), 1)))
    for _ in range(rounds):
        sweep(up, rows[1:])
        sweep(down, rows[-2::-1])

    x = _place(rows, up, down, node_width, max(1, min(6, _ROUNDS_BUDGET // max(len(index), 1))))
    left = min((x[n] - node_width[n] / 2 for n in x), default=0.0)
    shift = MARGIN - left
    x = {n: round(v + shift, 2) for n, v in x.items()}
    width = max((x[n] + node_width[n] / 2 for n in x), default=0.0) + MARGIN
    top = [MARGIN + r * (BOX_HEIGHT + ROW_GAP) for r in range(depth)]
    positions: Dict[str, Tuple[float, float]] = {n: (x[n] - node_width[n] / 2, top[level[n]]) for n in names}
    sizes = {n: (node_width[n], float(BOX_HEIGHT)) for n in names}
    routes = _routes(chains, x, level, top, node_width)
    height = 2 * MARGIN + depth * BOX_HEIGHT + max(depth - 1, 0) * ROW_GAP
    layers = [[n for n in row if n in known] for row in rows]
    return DagLayout(positions, max(width, 2 * MARGIN), height, layers, sizes, routes)


_ROUNDS_BUDGET = 20_000  # layout nodes times refining rounds


def _place(rows, up, down, node_width, rounds: int) -> Dict[str, float]:
    """Centre x of each node: in its layer's order, no closer to its neighbours than widths and
    gaps allow, and otherwise as near the mean x of its neighbours in the layer above (then
    below) as can be (least squares under the order constraints; lanes weigh more, so long
    edges run straight)."""
    x: Dict[str, float] = {}
    offsets = {id(row): _offsets(row, node_width) for row in rows}  # the order is settled
    for row in rows:
        middle = offsets[id(row)][-1] / 2 if row else 0.0
        x.update({n: offsets[id(row)][i] - middle for i, n in enumerate(row)})
    weights = {id(row): [1.0 if n[0] != "\0" else 2.0 for n in row] for row in rows}
    for _ in range(rounds):
        for sweep_rows, neighbours in ((rows[1:], up), (rows[-2::-1], down)):
            for row in sweep_rows:
                wanted = [sum(x[m] for m in neighbours[n]) / len(neighbours[n]) if neighbours[n] else x[n] for n in row]
                x.update(zip(row, _fit_in_order(wanted, weights[id(row)], offsets[id(row)])))
    return x


def _offsets(row: List[str], node_width: Dict[str, float]) -> List[float]:
    """Least distance of each node's centre from the first one's, in order."""
    offsets = [0.0]
    for u, v in zip(row, row[1:]):
        gap = COLUMN_GAP if u[0] != "\0" and v[0] != "\0" else EDGE_GAP
        offsets.append(offsets[-1] + (node_width[u] + node_width[v]) / 2 + gap)
    return offsets[: len(row)]


def _fit_in_order(wanted: List[float], weights: List[float], offsets: List[float]) -> List[float]:
    """Positions ``p`` nearest ``wanted`` (weighted least squares) with ``p[i+1] - p[i] >=
    offsets[i+1] - offsets[i]``: an isotonic regression of ``wanted - offsets`` (pool adjacent
    violators)."""
    blocks: List[List[float]] = []  # [weighted sum, weight, count]
    for value, weight, offset in zip(wanted, weights, offsets):
        blocks.append([(value - offset) * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight_sum, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight_sum
            blocks[-1][2] += count
    fitted: List[float] = []
    for total, weight_sum, count in blocks:
        fitted.extend([total / weight_sum] * int(count))
    return [f + o for f, o in zip(fitted, offsets)]


def _routes(chains, x, level, top, node_width) -> Dict[Tuple[str, str], List[Tuple[float, float]]]:
    """The points of each edge (see ``DagLayout``); edges leaving or entering one box are
    spread along its edge in the order of where they go or come from, so they do not merge."""
    out_port: Dict[Tuple[str, str], float] = {}
    in_port: Dict[Tuple[str, str], float] = {}
    leaving: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    entering: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for edge in chains:
        leaving[edge[0]].append(edge)
        entering[edge[1]].append(edge)
    for ports, groups, next_of in ((out_port, leaving, 1), (in_port, entering, -2)):
        for name, group in groups.items():
            group.sort(key=lambda e: (x[chains[e][next_of]], e))
            spacing = min(16.0, 0.6 * node_width[name] / max(len(group) - 1, 1))
            for k, edge in enumerate(group):
                ports[edge] = x[name] + (k - (len(group) - 1) / 2) * spacing
    routes = {}
    for edge, chain in chains.items():
        a, b = edge
        points = [(out_port[edge], top[level[a]] + BOX_HEIGHT)]
        for row, lane in enumerate(chain[1:-1], start=level[a] + 1):
            points += [(x[lane], top[row]), (x[lane], top[row] + BOX_HEIGHT)]
        points.append((in_port[edge], top[level[b]]))
        routes[edge] = points
    return routes


def _path(points: List[Tuple[float, float]]) -> str:
    """SVG path data: a vertical-tangent curve across each gap between layers (it stays within
    the gap), a straight line along each lane through a layer."""
    (x0, y0), parts = points[0], [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
    for i, (x1, y1) in enumerate(points[1:]):
        if i % 2 == 0:
            bend = (y1 - y0) / 2
            parts.append(f"C {x0:.1f} {y0 + bend:.1f}, {x1:.1f} {y1 - bend:.1f}, {x1:.1f} {y1:.1f}")
        else:
            parts.append(f"L {x1:.1f} {y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_svg(dag: Dict[str, Any], states: Dict[str, Dict[str, Any]], default_state: str = "defined") -> str:
    """The DAG as a standalone SVG document (boxes with ``data-step``/``data-state``)."""
    types = {s["name"]: s.get("type") or "" for s in dag["steps"]}
    state_of = {name: states.get(name, {}).get("state", default_state) for name in types}
    subtitles = {name: _subtitle(types[name], state_of[name]) for name in types}
    box = layout(dag, {name: box_width(name, subtitles[name]) for name in types})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sagepipe-dag" width="{box.width:.0f}" '
        f'height="{box.height:.0f}" viewBox="0 0 {box.width:.0f} {box.height:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        '<defs><marker id="sagepipe-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#607d8b"/></marker></defs>',
    ]
    for (a, b), kinds in _unique_edges(dag["edges"]).items():
        points = box.routes.get((a, b))
        if not points:
            continue
        dashed = ' stroke-dasharray="4 3"' if kinds == ["DependsOn"] else ""
        label = "if" if "If" in kinds else "else" if "Else" in kinds else ""
        parts.append(
            f'<path class="edge" data-from="{_escape(a)}" data-to="{_escape(b)}" d="{_path(points)}" '
            f'fill="none" stroke="#607d8b" stroke-width="1.4"{dashed} marker-end="url(#sagepipe-arrow)"/>'
        )
        if label:  # just below the condition's box, beside where the edge leaves it
            (x1, y1), (x2, _) = points[0], points[1]
            anchor = "start" if x2 >= x1 else "end"
            dx = 4 if x2 >= x1 else -4
            parts.append(
                f'<text class="edge-label" x="{x1 + dx:.1f}" y="{y1 + 13:.1f}" text-anchor="{anchor}" '
                f'font-size="11" fill="#455a64">{label}</text>'
            )
    for name, (x, y) in box.positions.items():
        state = state_of[name]
        width, height = box.sizes[name]
        colour = STATE_COLOURS.get(state, STATE_COLOURS["defined"])
        title = _escape(f"{name} ({types[name]}): {state}")
        parts.append(
            f'<g class="step" data-step="{_escape(name)}" data-state="{state}"><title>{title}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.0f}" height="{height:.0f}" rx="7" fill="{colour}" '
            'stroke="#263238" stroke-width="1"/>'
            f'<text x="{x + width / 2:.1f}" y="{y + 19:.1f}" text-anchor="middle" font-size="{NAME_SIZE}" '
            f'font-weight="bold" fill="#ffffff">{_escape(name)}</text>'
            f'<text x="{x + width / 2:.1f}" y="{y + 35:.1f}" text-anchor="middle" font-size="{SUBTITLE_SIZE}" '
            f'fill="#eceff1">{_escape(subtitles[name])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(used: Sequence[str]) -> str:
    items = "".join(
        f'<span style="display:inline-block;margin-right:10px"><span style="display:inline-block;width:10px;'
        f'height:10px;background:{STATE_COLOURS[s]};margin-right:4px;border-radius:2px"></span>{s}</span>'
        for s in STATE_COLOURS
        if s in used
    )
    return f'<div class="sagepipe-legend" style="font-size:12px;margin:4px 0">{items}</div>'


def _figure(title: str, dag: Dict[str, Any], states: Dict[str, Dict[str, Any]], extra: str = "", default="defined"):
    used = {v["state"] for v in states.values()} or {default}
    return (
        f'<div class="sagepipe"><div style="font-weight:bold;margin-bottom:4px">{_escape(title)}</div>'
        f'{_legend(sorted(used))}<div style="overflow:auto;max-height:720px">'
        f"{render_svg(dag, states, default)}</div>{extra}</div>"
    )


def step_time(info: Dict[str, Any], now: Optional[float] = None) -> str:
    """How long a step (its ``execution_states`` entry) took, or has run so far with ``now``;
    empty for a step this execution did not run (a reused step's or a cache hit's times are
    those of the run it comes from)."""
    state, record = info.get("state"), info.get("record")
    if state in ("reused", "cache-hit") or not record or record.get("StartTime") is None:
        return ""
    end = record.get("EndTime")
    if end is None:
        if now is None:
            return ""
        return f"{max(now - record['StartTime'], 0.0):.1f} s"
    return f"{end - record['StartTime']:.2f} s"


def step_detail(info: Dict[str, Any]) -> str:
    """``step_note`` of a step's ``execution_states`` entry, for a line that shows its state
    already: a reused step or a cache hit says only where from (``reused  from ...``, never
    ``reused  reused from ...``); a running step, its last log line if known."""
    state, record = info.get("state"), info.get("record")
    source = _source_execution(record) or info.get("reused_from")
    if state in ("reused", "cache-hit") and source:
        return f"from {source}"
    return info.get("last_log_line") or step_note(record)


def _source_execution(record: Optional[Dict[str, Any]]) -> str:
    result = (record or {}).get("SelectiveExecutionResult") or (record or {}).get("CacheHitResult")
    return result["SourcePipelineExecutionArn"].rsplit("/", 1)[-1] if result else ""


def step_note(record: Optional[Dict[str, Any]]) -> str:
    """One-line detail of a step record: reuse source, condition outcome or failure reason."""
    if not record:
        return ""
    if record.get("SelectiveExecutionResult"):
        return "reused from " + _source_execution(record)
    if record.get("CacheHitResult"):
        return "cache hit from " + _source_execution(record)
    outcome = (record.get("Metadata") or {}).get("Condition", {}).get("Outcome")
    if outcome:
        return f"outcome {outcome}"
    return record.get("FailureReason") or ""


def steps_table_html(dag: Dict[str, Any], states: Dict[str, Dict[str, Any]], now: Optional[float] = None) -> str:
    """An HTML table of step, state, duration and note, in pipeline order (``now``: show how long
    running steps have run so far)."""
    rows = []
    for name in dag.get("order") or [s["name"] for s in dag["steps"]]:
        info = states.get(name, {})
        state = info.get("state", "pending")
        rows.append(
            f'<tr data-step="{_escape(name)}"><td>{_escape(name)}</td>'
            f'<td><span style="color:{STATE_COLOURS.get(state, "#000")};font-weight:bold">{state}</span></td>'
            f"<td>{step_time(info, now)}</td><td>{_escape(step_detail(info))}</td></tr>"
        )
    return (
        '<table class="sagepipe-steps"><thead><tr><th>step</th><th>state</th><th>time</th><th>note</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def pipeline_html(pipeline) -> str:
    """HTML of a pipeline: its DAG, uncoloured by any run."""
    dag = dag_of_definition(pipeline.definition(), pipeline.name)
    return _figure(f"Pipeline {pipeline.name} ({len(dag['steps'])} steps)", dag, {})


def execution_html(execution) -> str:
    """HTML of an execution: the DAG coloured by step state, and a table of the steps."""
    dag, states, record = execution_states(execution)
    title = f"Execution {record['ExecutionId']} of {record['PipelineName']}: {record['PipelineExecutionStatus']}"
    return _figure(title, dag, states, steps_table_html(dag, states, now=time.time()))


def plan_html(plan) -> str:
    """HTML of a plan (made with its definition): the DAG coloured by what the run would do."""
    dag = dag_of_definition(plan.definition, plan.pipeline)
    states = plan_states(plan)
    reasons = "".join(
        f"<tr><td>{_escape(e['step'])}</td><td>{_escape(e['action'])}</td><td>{_escape(e.get('reason', ''))}</td></tr>"
        for e in plan.entries
    )
    table = f'<table class="sagepipe-plan"><tr><th>step</th><th>action</th><th>reason</th></tr>{reasons}</table>'
    title = f"Plan for {plan.pipeline}" + (f" (reference {plan.reference_arn})" if plan.reference_arn else "")
    if plan.refused:
        refusal = _escape(plan.refused).replace("\n", "<br>")
        table += f'<p class="sagepipe-refused">this run would be refused before anything runs: {refusal}</p>'
    return _figure(title, dag, states, table, default="not-run")


def _edge_note(kinds: List[str]) -> str:
    if "If" in kinds or "Else" in kinds:
        return " (if)" if "If" in kinds else " (else)"
    return " (after)" if kinds == ["DependsOn"] else ""


def text_dag(dag: Dict[str, Any], states: Optional[Dict[str, Dict[str, Any]]] = None) -> str:
    """The DAG as text: one line per step by layer, with what it depends on."""
    box = layout(dag)
    kinds = _unique_edges(dag["edges"])
    types = {s["name"]: s.get("type") or "" for s in dag["steps"]}
    lines = []
    for i, layer in enumerate(box.layers):
        for name in layer:
            ups = [f"{a}{_edge_note(k)}" for (a, b), k in kinds.items() if b == name]
            state = f" [{states[name]['state']}]" if states and name in states else ""
            after = f"  <- {', '.join(ups)}" if ups else ""
            lines.append(f"{i:>3}  {name} ({types[name]}){state}{after}")
    return "\n".join(lines)
