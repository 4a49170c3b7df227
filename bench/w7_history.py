"""W7 history: what a store's reads cost once it holds a real history (issue 17).

Generates, through the public API only (untimed), a store holding N executions of one 10-step
pipeline: 8 in-process @step functions (a root, a fan-out of 6, a join) plus a ConditionStep on
the join's result whose else-branch is a FailStep (never taken). Executions are started one after
another with ``Pipeline.start(parameters={"i": k})`` and waited for; every 50th is a selective run
of 2 steps referencing a random earlier execution (so gc has sources to keep) and every 100th goes
through ``sagepipe.client().start_pipeline_execution``. The store is copied (untimed) when it holds
100, 1,000 and 10,000 executions (``--max`` stops earlier).

Then, for each snapshot (after one discarded process on the smallest), one fresh process opens a
``PipelineSession`` and the client (untimed) and times, with ``perf_counter``: the first call
(reported as "cold"), one more warm-up call, then the median of ``--reps`` (21) calls of

- ``list first page``: ``client.list_pipeline_executions(PipelineName=..., MaxResults=50)``;
- ``describe``: ``client.describe_pipeline_execution`` of the oldest execution;
- ``list steps``: ``client.list_pipeline_execution_steps`` of the oldest execution;
- ``reference lookup``: ``Pipeline.plan(selective_execution_config=SelectiveExecutionConfig(
  source_pipeline_execution_arn=<the oldest execution>, selected_steps=[2 steps]))`` on the
  pipeline object (builds the definition, upserts it, and the engine compiles it, loads the
  reference execution's step records and plans);
- ``engine plan``: the engine call alone inside that, ``session.store.plan(name, request)`` with
  the same request (no definition build, no upsert);
- ``latest reference``: ``Pipeline.plan`` with ``SelectiveExecutionConfig(selected_steps=[2 steps],
  reference_latest_execution=True)``: as ``reference lookup``, plus finding the newest execution.

and ``gc --keep 100``: ``python -m sagepipe gc --store COPY --keep 100``, the whole process, on a
fresh copy of the snapshot, once per N (reported per deleted execution as well).

    python bench/w7_history.py                # N = 100, 1,000, 10,000
    python bench/w7_history.py --max 1000     # quick: N = 100, 1,000
    python bench/w7_history.py --work DIR --reuse   # measure existing snapshots in DIR again

Prints a table with the growth ratios t(1,000)/t(100) and t(10,000)/t(100).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NAME = "w7-history"
SIZES = (100, 1_000, 10_000)
SELECTED = ["b1", "join"]
OPS = ("list first page", "describe", "list steps", "reference lookup", "engine plan", "latest reference")


def build_pipeline(session):
    from sagepipe.workflow.condition_step import ConditionStep
    from sagepipe.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagepipe.workflow.fail_step import FailStep
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.parameters import ParameterInteger
    from sagepipe.workflow.pipeline import Pipeline

    i = ParameterInteger(name="i", default_value=0)

    @step(name="root")
    def root(k):
        return k

    def fan(x, j):
        return x + j

    r = root(i)
    branches = [step(name=f"b{j}")(fan)(r, j) for j in range(1, 7)]

    @step(name="join")
    def join(*xs):
        return sum(xs)

    total = join(*branches)
    fail = FailStep(name="never", error_message="the join was negative")
    check = ConditionStep(
        name="check",
        conditions=[ConditionGreaterThanOrEqualTo(left=total, right=0)],
        if_steps=[],
        else_steps=[fail],
    )
    return Pipeline(name=NAME, parameters=[i], steps=[check], sagemaker_session=session)


def session_on(store):
    from sagepipe.workflow.pipeline_context import PipelineSession

    return PipelineSession(store=store, function_step_mode="in_process")


def snapshot_dir(work, n):
    return os.path.join(work, f"store-{n}")


def generate(work, sizes, seed=7):
    """Run executions into work/live, copying the store at each size; returns seconds per size."""
    from sagepipe import client as make_client
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    live = os.path.join(work, "live")
    shutil.rmtree(live, ignore_errors=True)
    session = session_on(live)
    pipe = build_pipeline(session)
    pipe.upsert()
    sm = make_client(sagemaker_session=session)
    rng = random.Random(seed)
    arns, timings, t0 = [], {}, time.perf_counter()
    for k in range(1, max(sizes) + 1):
        if k % 100 == 0:
            out = sm.start_pipeline_execution(PipelineName=NAME, PipelineParameters=[{"Name": "i", "Value": str(k)}])
            execution = pipe.describe  # keep the linter quiet about unused names below
            arn = out["PipelineExecutionArn"]
            from sagepipe.workflow.pipeline import _PipelineExecution  # noqa: F401  (see below)
        elif k % 50 == 0 and arns:
            config = SelectiveExecutionConfig(source_pipeline_execution_arn=rng.choice(arns), selected_steps=SELECTED)
            execution = pipe.start(parameters={"i": k}, selective_execution_config=config)
            execution.wait()
            arn = execution.arn
        else:
            execution = pipe.start(parameters={"i": k})
            execution.wait()
            arn = execution.arn
        arns.append(arn)
        if k in sizes:
            wait_all(sm, arns)
            shutil.copytree(live, snapshot_dir(work, k))
            timings[k] = time.perf_counter() - t0
            print(f"  generated {k:>6} executions in {timings[k]:7.1f} s", file=sys.stderr, flush=True)
    return timings


def wait_all(sm, arns):
    """Wait until none of ``arns`` is still executing (client-started runs return at once)."""
    for arn in arns[-8:]:
        while sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing":
            time.sleep(0.005)


def timed(call, reps):
    """(cold, median warm) in seconds: the first call, one warm-up, then the median of ``reps``."""
    t = time.perf_counter()
    call()
    cold = time.perf_counter() - t
    call()
    warm = []
    for _ in range(reps):
        t = time.perf_counter()
        call()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm)


def measure(store, reps):
    """One fresh process per snapshot: the reads, as {op: [cold, warm]} (printed as JSON)."""
    from sagepipe import client as make_client
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    session = session_on(store)
    sm = make_client(sagemaker_session=session)
    pipe = build_pipeline(session)
    oldest = json.loads(session.store.list_executions(NAME))[-1]["PipelineExecutionArn"]
    config = SelectiveExecutionConfig(source_pipeline_execution_arn=oldest, selected_steps=SELECTED)
    latest = SelectiveExecutionConfig(selected_steps=SELECTED, reference_latest_execution=True)
    request = json.dumps(dict(config._engine_request(), SourcePipelineExecutionArn=oldest))
    calls = {
        "list first page": lambda: sm.list_pipeline_executions(PipelineName=NAME, MaxResults=50),
        "describe": lambda: sm.describe_pipeline_execution(PipelineExecutionArn=oldest),
        "list steps": lambda: sm.list_pipeline_execution_steps(PipelineExecutionArn=oldest),
        "reference lookup": lambda: pipe.plan(selective_execution_config=config),
        "engine plan": lambda: session.store.plan(NAME, request),
        "latest reference": lambda: pipe.plan(selective_execution_config=latest),
    }
    plan = pipe.plan(selective_execution_config=config)
    assert plan.reference_arn == oldest, plan.reference_arn  # the lookup found the old execution
    assert sorted(a for a, x in plan.actions().items() if x == "run") == sorted(SELECTED), plan.actions()
    return {op: timed(call, reps) for op, call in calls.items()}


def gc_once(store, work):
    """``python -m sagepipe gc --keep 100`` on a fresh copy: (seconds, deleted executions)."""
    copy = os.path.join(work, "gc-copy")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    command = [sys.executable, "-m", "sagepipe", "gc", "--store", copy, "--keep", "100", "--json"]
    t = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    shutil.rmtree(copy, ignore_errors=True)
    return seconds, len(json.loads(out.stdout)["delete"])


def measure_in_child(store, reps):
    """``measure(store)`` in a fresh interpreter (so "cold" is the first call in a process)."""
    child = [sys.executable, os.path.abspath(__file__), "--measure", store, "--reps", str(reps)]
    return json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)


def store_mb(root):
    total = 0
    for base, _, files in os.walk(root):
        total += sum(os.path.getsize(os.path.join(base, f)) for f in files)
    return total / 2**20


def ms(seconds):
    return f"{seconds * 1000:,.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest N (100, 1000 or 10000; default 10000)")
    parser.add_argument("--reps", type=int, default=21, help="warm calls per operation (median; default 21)")
    parser.add_argument("--work", help="directory for the snapshots (default: a temporary one, removed)")
    parser.add_argument("--reuse", action="store_true", help="measure the snapshots already in --work")
    parser.add_argument("--measure", metavar="STORE", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.reps)))
        return 0
    if args.reuse and not args.work:
        parser.error("--reuse measures the snapshots in --work DIR; give it")
    sizes = [n for n in SIZES if n <= args.max]
    work = args.work or tempfile.mkdtemp(prefix="sagepipe-w7-")
    os.makedirs(work, exist_ok=True)
    try:
        if args.reuse:
            generated = {}
        else:
            print(f"generating {sizes[-1]:,} executions in {work} (untimed)", file=sys.stderr, flush=True)
            generated = generate(work, sizes)
        rows, gc = {}, {}
        # One discarded measuring process first: the first one after generation or an idle pause
        # ran up to 2x slower, which skewed the N=100 baseline of the growth ratios.
        measure_in_child(snapshot_dir(work, sizes[0]), args.reps)
        for n in sizes:
            store = snapshot_dir(work, n)
            rows[n] = measure_in_child(store, args.reps)
            gc[n] = gc_once(store, work)
            print(f"  measured N={n:,}", file=sys.stderr, flush=True)
        report(sizes, rows, gc, generated, work, args.reps)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(sizes, rows, gc, generated, work, reps):
    load = os.getloadavg()
    print(f"W7 history; medians of {reps} warm calls (cold = first call in a fresh process), ms")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} CPUs")
    head = (
        "| operation | "
        + " | ".join(f"N={n:,} warm (cold)" for n in sizes)
        + " | growth "
        + "→".join(f"{n:,}" for n in sizes)
        + " |"
    )
    print(head)
    print("|" + "---|" * (len(sizes) + 2))
    for op in OPS:
        cells = [f"{ms(rows[n][op][1])} ({ms(rows[n][op][0])})" for n in sizes]
        base = rows[sizes[0]][op][1]
        growth = " / ".join(f"{rows[n][op][1] / base:.1f}×" for n in sizes[1:])
        print(f"| {op} | " + " | ".join(cells) + f" | {growth} |")
    cells = [f"{ms(gc[n][0])} ({gc[n][1]:,} deleted)" for n in sizes]
    growth = " / ".join(f"{gc[n][0] / gc[sizes[0]][0]:.1f}×" for n in sizes[1:])
    print("| gc --keep 100 (whole process) | " + " | ".join(cells) + f" | {growth} |")
    per = [f"{ms(gc[n][0] / gc[n][1])}" if gc[n][1] else "-" for n in sizes]
    print("| gc per deleted execution | " + " | ".join(per) + " | |")
    print("| store size, MB | " + " | ".join(f"{store_mb(snapshot_dir(work, n)):,.1f}" for n in sizes) + " | |")
    if generated:
        done = ", ".join(f"N={n:,}: {s:.1f}" for n, s in generated.items())
        print(f"generation (untimed above), cumulative s: {done}")


if __name__ == "__main__":
    sys.exit(main())
