"""Notebook and terminal views of pipelines, executions and plans.

``Pipeline``, executions and plans have ``_repr_html_``, so Jupyter shows them as an SVG DAG:
steps as boxes in layers (each step below everything it depends on), edges from dependency to
dependent (dashed for ``DependsOn``-only edges, labelled ``if``/``else`` for condition branches),
and boxes coloured by state. The DAG comes from the engine's own graph
(``sagepipe._core.compile_definition``), so what is drawn is what runs.

States: ``succeeded``, ``failed``, ``running``, ``stopped``, ``reused`` (Selective Execution),
``cache-hit``, ``not-selected`` (left out of a Selective Execution), ``not-run`` (other branch, or
not reached), ``pending`` (not started yet), ``planned`` (a plan's ``run``) and ``defined`` (a
pipeline with no execution).
"""

import html
import json
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sagepipe._responses import TERMINAL as _TERMINAL

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
    "defined": "#546e7a",
}


BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 168, 44, 28, 46, 16


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
        return "pending" if execution_status not in _TERMINAL else "not-run"
    if record.get("SelectiveExecutionResult"):
        return "reused"
    if record.get("CacheHitResult"):
        return "cache-hit"
    status = record.get("StepStatus")
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
    reused = _upstream(dag, selected) - selected if selected is not None else set()
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
    """States of a plan's entries: ``run`` is planned, ``reuse`` reused, ``cache-hit`` a cache hit, the rest not run."""
    action_state = {"run": "planned", "reuse": "reused", "cache-hit": "cache-hit", "not-selected": "not-selected"}
    return {e["step"]: {"state": action_state.get(e["action"], "pending"), "entry": e} for e in plan.entries}


class DagLayout:
    """Box positions of a layered DAG layout (top to bottom)."""

    def __init__(self, positions: Dict[str, Tuple[float, float]], width: float, height: float, layers: List[List[str]]):
        self.positions = positions
        self.width = width
        self.height = height
        self.layers = layers


def _unique_edges(edges: Sequence[Sequence[str]]) -> Dict[Tuple[str, str], List[str]]:
    kinds: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for a, b, kind in edges:
        if kind not in kinds[(a, b)]:
            kinds[(a, b)].append(kind)
    return kinds


def layout(dag: Dict[str, Any]) -> DagLayout:
    """Layered layout: a step's layer is its longest dependency path; within a layer, steps
    are ordered by the mean position of their parents (a few barycentre sweeps keep crossings
    low), so chains stay straight and a 50+ step pipeline stays readable."""
    names = [s["name"] for s in dag["steps"]]
    order = dag.get("order") or names
    parents: Dict[str, List[str]] = defaultdict(list)
    children: Dict[str, List[str]] = defaultdict(list)
    for a, b in _unique_edges(dag["edges"]):
        parents[b].append(a)
        children[a].append(b)
    level: Dict[str, int] = {}
    for name in order:  # topological order from the engine
        level[name] = 1 + max((level[p] for p in parents[name] if p in level), default=-1)
    for name in names:
        level.setdefault(name, 0)
    layers: List[List[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in order:
        layers[level[name]].append(name)
    index = {n: i for layer in layers for i, n in enumerate(layer)}

    def sweep(neighbours: Dict[str, List[str]], rows: Sequence[List[str]]) -> None:
        for row in rows:
            def key(n: str, row=row) -> float:
                linked = [index[m] for m in neighbours[n] if m in index]
                return sum(linked) / len(linked) if linked else index[n]

            row.sort(key=key)
            index.update({n: i for i, n in enumerate(row)})

    for _ in range(2):
        sweep(parents, layers[1:])
        sweep(children, layers[-2::-1])
    widest = max((len(layer) for layer in layers), default=0)
    width = 2 * MARGIN + widest * BOX_WIDTH + max(widest - 1, 0) * COLUMN_GAP
    positions: Dict[str, Tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        row_width = len(layer) * BOX_WIDTH + max(len(layer) - 1, 0) * COLUMN_GAP
        x0 = (width - row_width) / 2
        for i, name in enumerate(layer):
            positions[name] = (x0 + i * (BOX_WIDTH + COLUMN_GAP), MARGIN + row * (BOX_HEIGHT + ROW_GAP))
    height = 2 * MARGIN + len(layers) * BOX_HEIGHT + max(len(layers) - 1, 0) * ROW_GAP
    return DagLayout(positions, width, height, layers)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_svg(dag: Dict[str, Any], states: Dict[str, Dict[str, Any]], default_state: str = "defined") -> str:
    """The DAG as a standalone SVG document (boxes with ``data-step``/``data-state``)."""
    box = layout(dag)
    types = {s["name"]: s.get("type") or "" for s in dag["steps"]}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sagepipe-dag" width="{box.width:.0f}" '
        f'height="{box.height:.0f}" viewBox="0 0 {box.width:.0f} {box.height:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        '<defs><marker id="sagepipe-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#607d8b"/></marker></defs>',
    ]
    for (a, b), kinds in _unique_edges(dag["edges"]).items():
        if a not in box.positions or b not in box.positions:
            continue
        (xa, ya), (xb, yb) = box.positions[a], box.positions[b]
        x1, y1 = xa + BOX_WIDTH / 2, ya + BOX_HEIGHT
        x2, y2 = xb + BOX_WIDTH / 2, yb
        bend = max((y2 - y1) / 2, 12)
        dashed = ' stroke-dasharray="4 3"' if kinds == ["DependsOn"] else ""
        label = "if" if "If" in kinds else "else" if "Else" in kinds else ""
        parts.append(
            f'<path class="edge" data-from="{html.escape(a)}" data-to="{html.escape(b)}" '
            f'd="M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + bend:.1f}, {x2:.1f} {y2 - bend:.1f}, {x2:.1f} {y2:.1f}" '
            f'fill="none" stroke="#607d8b" stroke-width="1.4"{dashed} marker-end="url(#sagepipe-arrow)"/>'
        )
        if label:
            parts.append(
                f'<text x="{(x1 + x2) / 2 + 4:.1f}" y="{(y1 + y2) / 2:.1f}" font-size="11" fill="#455a64">'
                f"{label}</text>"
            )
    for name, (x, y) in box.positions.items():
        state = states.get(name, {}).get("state", default_state)
        colour = STATE_COLOURS.get(state, STATE_COLOURS["defined"])
        title = html.escape(f"{name} ({types[name]}): {state}")
        subtitle = html.escape(_short(f"{types[name]} \u00b7 {state}", 26))
        parts.append(
            f'<g class="step" data-step="{html.escape(name)}" data-state="{state}"><title>{title}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="7" fill="{colour}" '
            'stroke="#263238" stroke-width="1"/>'
            f'<text x="{x + BOX_WIDTH / 2:.1f}" y="{y + 19:.1f}" text-anchor="middle" font-size="13" '
            f'font-weight="bold" fill="#ffffff">{html.escape(_short(name, 20))}</text>'
            f'<text x="{x + BOX_WIDTH / 2:.1f}" y="{y + 35:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#eceff1">{subtitle}</text></g>'
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
        f'<div class="sagepipe"><div style="font-weight:bold;margin-bottom:4px">{html.escape(title)}</div>'
        f"{_legend(sorted(used))}<div style=\"overflow:auto;max-height:720px\">"
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
            f'<tr data-step="{html.escape(name)}"><td>{html.escape(name)}</td>'
            f'<td><span style="color:{STATE_COLOURS.get(state, "#000")};font-weight:bold">{state}</span></td>'
            f"<td>{step_time(info, now)}</td><td>{html.escape(step_detail(info))}</td></tr>"
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
    return _figure(title, dag, states, steps_table_html(dag, states))


def plan_html(plan) -> str:
    """HTML of a plan (made with its definition): the DAG coloured by what the run would do."""
    dag = dag_of_definition(plan.definition, plan.pipeline)
    states = plan_states(plan)
    reasons = "".join(
        f"<tr><td>{html.escape(e['step'])}</td><td>{html.escape(e['action'])}</td>"
        f"<td>{html.escape(e.get('reason', ''))}</td></tr>"
        for e in plan.entries
    )
    table = f'<table class="sagepipe-plan"><tr><th>step</th><th>action</th><th>reason</th></tr>{reasons}</table>'
    title = f"Plan for {plan.pipeline}" + (f" (reference {plan.reference_arn})" if plan.reference_arn else "")
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
