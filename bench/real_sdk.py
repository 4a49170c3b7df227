"""What sagepipe adds when the real SageMaker SDK drives it (``sagepipe.install(sdk="real")``),
against the mirror (``sagepipe.workflow...``) doing the same work, measured in one run.

    PYTHONPATH=python /path/to/venv-with-sagemaker/bin/python bench/real_sdk.py [--quick]

Needs a Python with a real ``sagemaker`` installed (SDK v2 for the pipeline part; with v3 the
per-call and import parts run and the pipeline part is skipped). Everything runs on temp stores.
Medians over repeats:

1. Per call: the same SageMaker operation through sagepipe's own client (what the mirror's
   objects call) and through a botocore client that install(sdk="real") routes to the local
   service (what the real SDK calls); S3 PutObject/GetObject of a small object through the
   mirror's Session and through a routed boto3 client; creating clients and sessions.
2. Per step: a chain of N trivial ProcessingSteps (ScriptProcessor, command python3, caching
   off) built (constructors + definition()), upserted and run (start() to wait() returning)
   with the mirror and with the real SDK v2.
3. Imports, each in a fresh interpreter: the real SDK's pipeline module (the user's cost, not
   sagepipe's), the mirror's, and ``import sagepipe; sagepipe.install(sdk="real")`` after the
   SDK is imported (what sagepipe adds to a real-SDK script).

Prints each table as it is measured, then all of them again as markdown.
"""

import argparse
import compileall
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SCRIPT = "import sys\nprint('step', sys.argv[1:])\n"
SMALL_OBJECT = b"x" * 1024

_markdown = []


def median_time(fn, repeats: int, inner: int = 1) -> float:
    """Median over ``repeats`` of the mean seconds per call of ``fn`` over ``inner`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def table(title: str, header, rows, note: str = "") -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    print(f"\n{title}")
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    if note:
        print(note)
    md = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    if note:
        md += ["", note]
    _markdown.append("\n".join(md))


def sdk_version():
    """The installed SageMaker SDK's major version, or None when no real SDK is installed."""
    from sagepipe.compat import real_sdk_installed

    if not real_sdk_installed():
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sagemaker")
    except PackageNotFoundError:
        return None


# --- 3. imports, fresh interpreters -------------------------------------------------------------

IMPORT_TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def fresh_import(setup: str, stmt: str, repeats: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAGEPIPE_ROUTE", "SAGEMAKER_"))}
    env["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    env["SAGEPIPE_STORE"] = tempfile.mkdtemp(prefix="sagepipe-bench-import-")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # SDK v3 makes a client at import, which needs one
    code = (setup + "\n" if setup else "") + IMPORT_TIMER.format(stmt=stmt)
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def bench_imports(major: int, repeats: int) -> None:
    sdk_module = "sagemaker.workflow.pipeline" if major < 3 else "sagemaker.mlops.workflow.pipeline"
    quiet = "import logging; logging.disable(logging.CRITICAL)"
    sdk = fresh_import(quiet, f"import {sdk_module}", repeats)
    mirror = fresh_import(quiet, "import sagepipe.workflow.pipeline", repeats)
    add_on = fresh_import(f"{quiet}; import {sdk_module}", "import sagepipe; sagepipe.install(sdk='real')", repeats)
    rows = [
        [f"import {sdk_module} (real SDK; the user's cost)", f"{sdk * 1000:.0f}", "1.00"],
        ["import sagepipe.workflow.pipeline (mirror)", f"{mirror * 1000:.0f}", f"{mirror / sdk:.3f}"],
        ["import sagepipe + install(sdk='real'), SDK already imported", f"{add_on * 1000:.0f}", f"{add_on / sdk:.3f}"],
    ]
    table(
        f"Imports, fresh interpreter, median of {repeats} (ms)",
        ["import", "ms", "x real SDK import"],
        rows,
        "The last row is what sagepipe adds to a real-SDK script before its first call.",
    )


# --- 1. per call ---------------------------------------------------------------------------------


def mirror_pipeline(n: int, session, name: str):
    from sagepipe.processing import ScriptProcessor
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.steps import ProcessingStep

    return build_chain(ScriptProcessor, ProcessingStep, Pipeline, session, n, name)


def real_pipeline(n: int, session, name: str):
    from sagemaker.processing import ScriptProcessor
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.steps import ProcessingStep

    return build_chain(ScriptProcessor, ProcessingStep, Pipeline, session, n, name)


def build_chain(script_processor, processing_step, pipeline, session, n: int, name: str):
    """The same chain with either front end's classes: P0 -> P1 -> ... -> P{n-1}."""
    processor = script_processor(
        role=ROLE, image_uri=IMAGE, command=["python3"], instance_count=1, instance_type="ml.m5.large",
        sagemaker_session=session,
    )  # fmt: skip
    steps = []
    for i in range(n):
        step_args = processor.run(code="noop.py", arguments=[str(i)])
        steps.append(processing_step(name=f"P{i}", step_args=step_args, depends_on=[f"P{i - 1}"] if i else None))
    return pipeline(name=name, steps=steps, sagemaker_session=session)


def bench_calls(major: int, repeats: int, inner: int) -> None:
    import boto3
    import sagepipe
    from sagepipe.workflow.pipeline_context import PipelineSession as MirrorSession

    store = tempfile.mkdtemp(prefix="sagepipe-bench-calls-")
    os.environ["SAGEPIPE_STORE"] = store
    mirror_session = MirrorSession(store=store)
    pipeline = mirror_pipeline(3, mirror_session, "calls")
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait()
    arn = execution.arn
    local = sagepipe.client(store=store)

    # botocore's own client creation, before routing: the part of (b) that is not sagepipe's.
    boto3.client("sagemaker", region_name="us-east-1")  # loads and caches the service model
    boto_plain = median_time(lambda: boto3.client("sagemaker", region_name="us-east-1"), repeats, 20)
    sagepipe.install(sdk="real")
    try:
        routed = boto3.client("sagemaker")
        s3 = boto3.client("s3")
        rows = []
        calls = [
            ("DescribePipelineExecution", "describe_pipeline_execution", {"PipelineExecutionArn": arn}),
            ("ListPipelineExecutionSteps", "list_pipeline_execution_steps", {"PipelineExecutionArn": arn}),
            ("ListPipelines", "list_pipelines", {}),
        ]
        for operation, method, params in calls:
            a = getattr(local, method)(**params)
            b = getattr(routed, method)(**params)
            assert {k: v for k, v in a.items() if k != "ResponseMetadata"}.keys() <= b.keys(), (a, b)
            t_local = median_time(lambda m=getattr(local, method), p=params: m(**p), repeats, inner)
            t_routed = median_time(lambda m=getattr(routed, method), p=params: m(**p), repeats, inner)
            rows.append(call_row(f"SageMaker {operation}", t_local, t_routed))

        bucket = "sagepipe-bench"
        counter = iter(range(10**9))

        def mirror_put():
            mirror_session.upload_string_as_file_body(SMALL_OBJECT, bucket, f"m/{next(counter)}")

        def routed_put():
            s3.put_object(Bucket=bucket, Key=f"r/{next(counter)}", Body=SMALL_OBJECT)

        mirror_session.upload_string_as_file_body(SMALL_OBJECT, bucket, "get/object")
        assert s3.get_object(Bucket=bucket, Key="get/object")["Body"].read() == SMALL_OBJECT
        rows.append(
            call_row(
                "S3 PutObject 1 KiB", median_time(mirror_put, repeats, inner), median_time(routed_put, repeats, inner)
            )
        )
        rows.append(
            call_row(
                "S3 GetObject 1 KiB (read body)",
                median_time(lambda: mirror_session.read_s3_bytes(bucket, "get/object"), repeats, inner),
                median_time(lambda: s3.get_object(Bucket=bucket, Key="get/object")["Body"].read(), repeats, inner),
            )
        )
        t_local_client = median_time(lambda: sagepipe.client(store=store), repeats, 20)
        t_routed_client = median_time(lambda: boto3.client("sagemaker"), repeats, 20)
        rows.append(call_row("create SageMaker client", t_local_client, t_routed_client))
        context = "sagemaker.workflow.pipeline_context" if major < 3 else "sagemaker.core.workflow.pipeline_context"
        RealSession = importlib.import_module(context).PipelineSession  # noqa: N806 - the SDK's class name

        t_mirror_session = median_time(lambda: MirrorSession(store=store), repeats, 5)
        t_real_session = median_time(RealSession, repeats, 5)
        rows.append(call_row("create PipelineSession", t_mirror_session, t_real_session))
    finally:
        sagepipe.uninstall()
    table(
        f"Per call, median of {repeats} x {inner} calls (us per call)",
        ["operation", "sagepipe (mirror)", "boto3 routed (real SDK)", "overhead", "ratio"],
        rows,
        f"boto3.client('sagemaker') not routed (botocore's own cost): {boto_plain * 1e6:.0f} us; "
        f"routed adds {(t_routed_client - boto_plain) * 1e6:.0f} us.",
    )


def call_row(label: str, mirror: float, routed: float):
    return [
        label,
        f"{mirror * 1e6:.0f}",
        f"{routed * 1e6:.0f}",
        f"{(routed - mirror) * 1e6:+.0f}",
        f"{routed / mirror:.1f}x",
    ]


# --- 2. per step ---------------------------------------------------------------------------------


PHASES = ("build (constructors + definition())", "upsert", "run (start() to wait())")


def time_service_calls():
    """Counts the AWS calls the local service answers in this process and the time spent answering
    them (sagepipe's share of a real-SDK phase; the rest is the SDK's and botocore's)."""
    from sagepipe import _service

    spent = {"calls": 0, "seconds": 0.0}
    for service in _service._services.values():

        def timed(*args, _call=service.call, **kwargs):
            t0 = time.perf_counter()
            try:
                return _call(*args, **kwargs)
            finally:
                spent["calls"] += 1
                spent["seconds"] += time.perf_counter() - t0

        service.call = timed
    return spent


def run_front_end(front_end: str, n: int, name: str):
    """Build, upsert and run one chain on a fresh store. Returns per phase (seconds, AWS calls
    answered, seconds in the local service); the last two are 0 for the mirror (no AWS calls)."""
    import sagepipe

    store = tempfile.mkdtemp(prefix=f"sagepipe-bench-{front_end}-")
    os.environ["SAGEPIPE_STORE"] = store
    spent = {"calls": 0, "seconds": 0.0}
    if front_end == "real":
        sagepipe.install(sdk="real")
        spent = time_service_calls()
    try:
        if front_end == "real":
            from sagemaker.workflow.pipeline_context import PipelineSession

            session = PipelineSession()
            build = real_pipeline
        else:
            from sagepipe.workflow.pipeline_context import PipelineSession

            session = PipelineSession(store=store)
            build = mirror_pipeline
        marks = [(time.perf_counter(), spent["calls"], spent["seconds"])]
        pipeline = build(n, session, name)
        pipeline.definition()
        marks.append((time.perf_counter(), spent["calls"], spent["seconds"]))
        pipeline.upsert(role_arn=ROLE)
        marks.append((time.perf_counter(), spent["calls"], spent["seconds"]))
        execution = pipeline.start()
        if front_end == "real":
            execution.wait(delay=1, max_attempts=3600)
        else:
            execution.wait()
        marks.append((time.perf_counter(), spent["calls"], spent["seconds"]))
        status = execution.describe()["PipelineExecutionStatus"]
        assert status == "Succeeded", (front_end, status, execution.list_steps())
        assert len(execution.list_steps()) == n
        return [tuple(b - a for a, b in zip(marks[i], marks[i + 1])) for i in range(3)]
    finally:
        if front_end == "real":
            sagepipe.uninstall()


def bench_steps(sizes, repeats: int) -> None:
    for front_end in ("mirror", "real"):  # warm-up: imports, first job start
        run_front_end(front_end, 2, f"warm-{front_end}")
    results = {}
    for n in sizes:
        samples = {"mirror": [], "real": []}
        for r in range(repeats):  # interleaved, so a change in machine load hits both
            for front_end in ("mirror", "real"):
                samples[front_end].append(run_front_end(front_end, n, f"chain-{n}-{front_end}-{r}"))
        results[n] = {
            fe: [tuple(statistics.median(run[i][k] for run in runs) for k in range(3)) for i in range(3)]
            for fe, runs in samples.items()
        }
    rows = []
    for n in sizes:
        mirror, real = results[n]["mirror"], results[n]["real"]
        for i, phase in enumerate(PHASES):
            rows.append(step_row(f"N={n} {phase}", n, mirror[i][0], real[i]))
        total = tuple(sum(phase[k] for phase in real) for k in range(3))
        rows.append(step_row(f"N={n} total", n, sum(phase[0] for phase in mirror), total))
    table(
        f"Per step: chain of N ProcessingSteps (python3, caching off), median of {repeats} runs (s)",
        ["phase", "mirror", "real SDK v2", "real - mirror", "per step (ms)", "ratio", "AWS calls", "in sagepipe"],
        rows,
        "AWS calls: the real SDK's calls the local service answered; in sagepipe: seconds spent answering them "
        "(the rest of the real SDK's time is the SDK's and botocore's). The SDK's upsert() builds the definition "
        "again and uploads each step's code to S3 again.",
    )
    if len(sizes) >= 2:
        lo, hi = min(sizes), max(sizes)
        slope_rows = []
        for i, phase in enumerate(PHASES):
            m, r = ((results[hi][fe][i][0] - results[lo][fe][i][0]) / (hi - lo) for fe in ("mirror", "real"))
            calls = (results[hi]["real"][i][1] - results[lo]["real"][i][1]) / (hi - lo)
            ours = (results[hi]["real"][i][2] - results[lo]["real"][i][2]) / (hi - lo)
            slope_rows.append(
                [
                    phase,
                    f"{m * 1000:.1f}",
                    f"{r * 1000:.1f}",
                    f"{(r - m) * 1000:+.1f}",
                    f"{calls:.1f}",
                    f"{ours * 1000:.1f}",
                ]
            )
        table(
            f"Marginal cost of one more step, (T(N={hi}) - T(N={lo})) / {hi - lo} (ms per step)",
            ["phase", "mirror", "real SDK v2", "real - mirror", "AWS calls", "in sagepipe (ms)"],
            slope_rows,
        )


def step_row(label: str, n: int, mirror: float, real):
    seconds, calls, ours = real
    diff = seconds - mirror
    return [
        label, f"{mirror:.3f}", f"{seconds:.3f}", f"{diff:+.3f}", f"{diff / n * 1000:+.1f}", f"{seconds / mirror:.2f}x",
        f"{calls:.0f}", f"{ours:.3f}",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and small N: checks the benchmark works")
    parser.add_argument("--sizes", default="10,50", help="chain lengths (default 10,50)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per pipeline size and front end (default 3)")
    args = parser.parse_args()

    version = sdk_version()
    if version is None:
        sys.exit(
            "bench/real_sdk.py: no real SageMaker SDK is installed in this Python "
            f"({sys.executable}); run it with one that has it, e.g. a virtualenv with "
            "pip install 'sagemaker>=2.257,<3' and PYTHONPATH=python"
        )
    major = int(version.split(".")[0])
    os.environ["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)  # the SDK's INFO lines about config files, per session
    sizes = [2] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeats = 1 if args.quick else args.repeats
    import platform

    import sagepipe

    # As bench/run.sh does: the SDK is pip-installed with its .pyc; an editable sagepipe under
    # PYTHONDONTWRITEBYTECODE=1 would compile its modules from source in every fresh interpreter.
    compileall.compile_dir(os.path.dirname(sagepipe.__file__), quiet=1)
    print(
        f"sagepipe {sagepipe.__version__} ({os.path.dirname(sagepipe.__file__)}), SageMaker SDK {version}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    os.chdir(tempfile.mkdtemp(prefix="sagepipe-bench-"))  # the steps' code, relative as users write it
    with open("noop.py", "w") as f:
        f.write(SCRIPT)
    t0 = time.perf_counter()
    bench_imports(major, 1 if args.quick else 5)
    bench_calls(major, 3 if args.quick else 7, 20 if args.quick else 200)
    if major < 3:
        bench_steps(sizes, repeats)
    else:
        print("\nPer step: skipped, the pipeline part is written for SDK v2 (sagemaker.workflow); found", version)
    print(f"\nwall {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}")
    print("\n## Markdown\n")
    print("\n\n".join(_markdown))


if __name__ == "__main__":
    main()
