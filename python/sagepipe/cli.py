"""The ``sagepipe`` command line.

    sagepipe run TARGET [-p Name=Value]... [--select A,B] [--reference EXECUTION] [--resume EXECUTION] [--changed]
    sagepipe plan TARGET|PIPELINE [same options]
    sagepipe show TARGET|PIPELINE|EXECUTION [--html FILE]
    sagepipe executions [PIPELINE]      sagepipe steps EXECUTION      sagepipe params EXECUTION
    sagepipe logs EXECUTION STEP [-f]   sagepipe stop EXECUTION       sagepipe demo      sagepipe gc
    sagepipe store migrate

A TARGET is a script (``my_pipeline.py``, run unchanged with ``import sagemaker`` resolving to
sagepipe), a pipeline object (``package.module:pipeline``, ``file.py:pipeline``, or a function
returning one), or a definition JSON file (``definition.json``, as ``pipeline.definition()`` or
the SageMaker SDK wrote it). Every command takes ``--store DIR`` (default ``$SAGEPIPE_STORE`` or
``./.sagepipe``) and ``--json`` (machine-readable output on stdout).

An EXECUTION is an execution ARN, its id (``oqd554rmnjiw``, or a unique start of it, 4 characters
at least), ``latest`` (the newest execution in the store) or ``PIPELINE/latest``; for
``--reference`` and ``--resume``, ``latest`` is the newest execution of the pipeline being run.
A PIPELINE is the name of a pipeline in the store.

Exit codes: 0 success; 1 the run failed or was stopped, or an operation failed; 2 usage error,
an invalid request (definition, parameters, selection) or a TARGET that cannot be loaded (it
fails to import, or its function needs arguments); 3 a pipeline, execution or step that does not
exist; 130 interrupted (Ctrl-C stops the executions the command runs).
"""

import argparse
import codecs
import contextlib
import inspect
import json
import os
import re
import runpy
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Set

from sagepipe import _core
from sagepipe._cloud import cloud_region
from sagepipe._responses import is_terminal
from sagepipe.client import ClientError
from sagepipe.exceptions import ResourceNotFoundError, SagePipeError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# How much of a step log ``sagepipe logs`` reads at a time.
_LOG_PIECE = 1 << 20


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit code 2)."""


class TargetError(Exception):
    """A TARGET that cannot be loaded (exit code 2): reported in one line, without a traceback."""


# ---- output ----


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=_json_default))


def _when(value: Optional[datetime]) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# ---- sessions and targets ----


def _session(args):
    from sagepipe.workflow.pipeline_context import PipelineSession

    mode = "in_process" if getattr(args, "in_process", False) else None
    return PipelineSession(store=args.store, function_step_mode=mode)


def _client(args):
    from sagepipe.client import client

    return client(sagemaker_session=_session(args))


@contextlib.contextmanager
def _reader(args, cloud: bool, region: Optional[str] = None):
    """The client a view reads with: the store's, or (``cloud``) SageMaker's, reached as the
    standard AWS configuration says (even where this process answers AWS calls locally)."""
    if not cloud:
        yield _client(args)
        return
    from sagepipe import compat
    from sagepipe.deploy import aws_session

    with compat.suspended():
        try:
            aws = aws_session(region)
        except (ImportError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        yield aws.client("sagemaker")


def _all_pages(call, key: str, **request) -> List[Dict[str, Any]]:
    items: List[Dict[str, Any]] = []
    while True:
        page = call(**request)
        items += page[key]
        if not page.get("NextToken"):
            return items
        request["NextToken"] = page["NextToken"]


def _is_pipeline(obj: Any) -> bool:
    return hasattr(obj, "definition") and hasattr(obj, "start") and hasattr(obj, "name")


def _pipeline_name_from(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    name = re.sub(r"[^a-zA-Z0-9]+", "-", stem).strip("-")
    return name or "pipeline"


def load_pipeline(target: str, session, name: Optional[str] = None, sdk: str = "auto"):
    """The pipeline a TARGET names (``module:attr``, ``file.py:attr`` or a definition JSON file).

    A pipeline object the real SageMaker SDK built (``sdk`` real, or auto with the SDK installed)
    becomes a sagepipe pipeline of its definition, the one contract both front ends share.
    """
    from sagepipe.workflow.pipeline import Pipeline

    if target.endswith(".json"):
        if not os.path.isfile(target):
            raise ResourceNotFoundError(f"definition file '{target}' does not exist")
        with open(target) as f:
            text = f.read()
        return Pipeline.from_definition(text, name or _pipeline_name_from(target), sagemaker_session=session)
    if ":" not in target:
        raise UsageError(
            f"'{target}' is not a pipeline target: use module:attribute, file.py:attribute or a definition .json "
            "(a bare script can only be run: `sagepipe run script.py`)"
        )
    module_part, attr = target.rsplit(":", 1)
    _install(sdk)  # pipeline modules written for the SageMaker SDK import `sagemaker`
    try:
        if module_part.endswith(".py"):
            if not os.path.isfile(module_part):
                raise ResourceNotFoundError(f"script '{module_part}' does not exist")
            sys.path.insert(0, os.path.dirname(os.path.abspath(module_part)))
            namespace = runpy.run_path(module_part, run_name="__sagepipe__")
        else:
            import importlib

            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            namespace = vars(importlib.import_module(module_part))
    except ImportError as exc:
        raise _import_failure(target, exc) from None
    if attr not in namespace:
        raise ResourceNotFoundError(f"'{module_part}' has no attribute '{attr}'")
    obj = namespace[attr]
    if not _is_pipeline(obj) and callable(obj):
        needed = _required_parameters(obj)
        if needed:
            raise TargetError(
                f"'{target}' is a function that needs arguments ({', '.join(needed)}); a TARGET function is "
                "called without arguments: give them defaults, or name a function that takes none"
            )
        obj = obj()
    if not _is_pipeline(obj):
        raise UsageError(f"'{target}' is a {type(obj).__name__}, not a Pipeline (or a function returning one)")
    if not isinstance(obj, Pipeline):  # the real SDK's: its definition() uploads into the store
        return Pipeline.from_definition(obj.definition(), name or obj.name, sagemaker_session=session)
    if name:
        obj.name = name
    obj.sagemaker_session = session
    return obj


def _install(sdk: str) -> None:
    """``compat.install`` for a TARGET; asking for the real SDK where none is installed is a usage error."""
    from sagepipe import compat

    try:
        compat.install(sdk=sdk)
    except ModuleNotFoundError as exc:
        if exc.name != compat.SDK_PACKAGE:
            raise
        raise UsageError(f"--sdk {sdk}: {exc}") from None


def _required_parameters(func) -> List[str]:
    """The parameters of ``func`` a call without arguments leaves without a value."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins): just call it
        return []
    return [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _import_failure(target: str, exc: ImportError) -> TargetError:
    """One line for a TARGET whose import failed: the user's line that imported, and what is missing."""
    import sagepipe

    ours = tuple(
        os.path.dirname(os.path.abspath(path)) + os.sep for path in (sagepipe.__file__, runpy.__file__) if path
    )
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<") and not os.path.abspath(f.filename).startswith(ours)
    ]  # fmt: skip
    where = f" ({os.path.relpath(frames[-1].filename)} line {frames[-1].lineno})" if frames else ""
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name and name.split(".")[0] in ("sagemaker", "sagepipe"):
        what = f"sagepipe has no module '{name}' (it mirrors the SageMaker SDK's pipeline modules, not this one)"
    elif isinstance(exc, ModuleNotFoundError) and name:
        what = f"module '{name}' is not installed in this environment ({sys.executable})"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return TargetError(f"cannot load '{target}'{where}: {what}")


_EXECUTION_ID = re.compile(r"^[a-z0-9]{4,12}$")


def _newest_execution(store, pipeline: str) -> str:
    store.load_pipeline(pipeline)  # an unknown pipeline: not found, with "did you mean"
    latest = store.latest_execution(pipeline)
    if latest is None:
        raise ResourceNotFoundError(f"pipeline '{pipeline}' has no executions yet")
    return json.loads(latest)["PipelineExecutionArn"]


def resolve_execution(text: str, store, pipeline: Optional[str] = None) -> str:
    """The ARN of the execution a command line names: an ARN, an execution id or a unique prefix
    of one (at least 4 characters), ``latest`` (of ``pipeline`` if given, else of the store) or
    ``PIPELINE/latest``."""
    if _core.parse_execution_arn(text) is not None:
        return text
    if text == "latest" and pipeline is not None:
        return _newest_execution(store, pipeline)
    if text == "latest":
        newest = [store.latest_execution(p["PipelineName"]) for p in json.loads(store.list_pipelines())]
        records = [json.loads(r) for r in newest if r]
        if not records:
            raise ResourceNotFoundError(f"there are no executions in the store at {store.root}")
        return max(records, key=lambda r: r["CreationTime"])["PipelineExecutionArn"]
    if text.endswith("/latest"):
        return _newest_execution(store, text[: -len("/latest")])
    if _EXECUTION_ID.match(text):
        arns = store.executions_with_id(text)
        if len(arns) == 1:
            return arns[0]
        if arns:
            raise UsageError(f"'{text}' is the start of {len(arns)} execution ids; give more of it, or one of: "
                             + ", ".join(arns))  # fmt: skip
        raise ResourceNotFoundError(f"no execution id starts with '{text}' in the store at {store.root}")
    raise UsageError(
        f"'{text}' names no execution: expected an execution ARN, an execution id (like oqd554rmnjiw), "
        "'latest' or 'PIPELINE/latest'"
    )


def _parameters(pairs: Optional[List[str]]) -> Dict[str, str]:
    values = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-p expects Name=Value, got '{pair}'")
        values[key] = value
    return values


def _selective_config(args, session, pipeline: str):
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    chosen = [o for o in ("select", "resume", "changed") if getattr(args, o)]
    if len(chosen) > 1:
        raise UsageError(f"--{' and --'.join(chosen)} cannot be combined: pick one way to select steps")
    if args.reference and not (args.select or args.changed):
        raise UsageError("--reference only applies with --select or --changed")
    reference = None
    if args.reference not in (None, "latest"):
        reference = resolve_execution(args.reference, session.store, pipeline)
    if args.resume:
        resume = resolve_execution(args.resume, session.store, pipeline)
        return SelectiveExecutionConfig.from_failed_execution(resume, sagemaker_session=session)
    if args.changed:
        return SelectiveExecutionConfig.changed_steps(source_pipeline_execution_arn=reference)
    if args.select:
        return SelectiveExecutionConfig(
            selected_steps=_step_names(args.select), source_pipeline_execution_arn=reference
        )
    return None


def _step_names(select: str) -> List[str]:
    """The step names of ``--select A,B``."""
    steps = [s.strip() for s in select.split(",") if s.strip()]
    if not steps:
        raise UsageError("--select needs at least one step name")
    return steps


def _parameters_for(pipeline, config, given: Dict[str, str]) -> Dict[str, str]:
    """A selective run keeps the reference's parameter values unless overridden, as the SDK's
    ``build_parameters_from_execution`` pattern does."""
    arn = getattr(config, "source_pipeline_execution_arn", None)
    if config is None or arn is None:
        return given
    return pipeline.build_parameters_from_execution(arn, given)


def _config_and_parameters(args, pipeline, session):
    """The selective config (reference resolved) and the parameters a run or plan uses: a
    selective run inherits the reference's parameter values, overridden by ``-p``."""
    if args.resume and cloud_region(args.resume):
        pipeline._record_cloud_execution(args.resume)  # the execution it resumes ran on SageMaker
    config = _selective_config(args, session, pipeline.name)
    if config is not None:
        try:
            config.source_pipeline_execution_arn = pipeline._reference_execution_arn(config)
        except ResourceNotFoundError:  # a pipeline never stored has no execution to refer to
            pass
    return config, _parameters_for(pipeline, config, _parameters(args.parameter))


# ---- commands ----


def cmd_run(args) -> int:
    session = _session(args)
    if args.target.endswith(".py") and ":" not in args.target:
        return _run_script(args, session)
    if args.script_args:
        raise UsageError(f"extra arguments {args.script_args} only apply to a script TARGET")
    pipeline = _target_or_stored(args.target, session, args.name, args.sdk)
    config, parameters = _config_and_parameters(args, pipeline, session)
    parallelism = {"MaxParallelExecutionSteps": args.max_parallel} if args.max_parallel else None
    with _jobs_reach_the_store(session):
        execution = pipeline.start(
            parameters=parameters,
            execution_display_name=args.display_name,
            execution_description=args.description,
            parallelism_config=parallelism,
            selective_execution_config=config,
        )
        if not (args.json or args.quiet):
            print(f"started {execution.arn}", file=sys.stderr)
        execution.wait(delay=1, max_attempts=10**9, progress=False if args.quiet else True)
    return _report_execution(args, execution)


@contextlib.contextmanager
def _jobs_reach_the_store(session):
    """The jobs of a run read and write the store's S3 through boto3, as under ``sagepipe run
    script.py``: a @step the real SDK built reads its pickled function there, so a stored pipeline
    of it could not run otherwise (its job found no AWS credentials). Routing already in effect
    (``sagepipe.install()``) stays as it is."""
    import importlib.util

    if importlib.util.find_spec("botocore") is None:
        yield
        return
    from sagepipe import _service

    if _service.routed_services():
        yield
        return
    _service.route(("s3", "sts"), store=str(session.store_root))
    try:
        yield
    finally:
        _service.unroute()


def _report_execution(args, execution) -> int:
    desc = execution.describe()
    status = desc["PipelineExecutionStatus"]
    if args.json:
        _emit_json(
            {
                "PipelineExecutionArn": execution.arn,
                "PipelineExecutionStatus": status,
                "FailureReason": desc.get("FailureReason"),
                "PipelineExecutionSteps": execution.list_steps(),
            }
        )
    else:
        reason = f": {desc['FailureReason']}" if desc.get("FailureReason") else ""
        print(f"{execution.arn} {status}{reason}")
        for line in _failed_step_lines(execution):
            print(line)
    return EXIT_OK if status == "Succeeded" else EXIT_FAILED


def _failed_step_lines(execution) -> List[str]:
    """A line per failed step with the start of its reason: the run's summary says what failed
    even when the progress view never showed it (a step that failed at once)."""
    lines = []
    execution_id = execution.arn.rsplit("/", 1)[-1]
    for step in reversed(execution.list_steps()):  # oldest first
        if step["StepStatus"] == "Failed":
            reason = (step.get("FailureReason") or "").strip().splitlines() or ["no reason recorded"]
            lines.append(f"  {step['StepName']} failed: {reason[0]}  (sagepipe logs {execution_id} {step['StepName']})")
    return lines


def _run_script(args, session) -> int:
    from sagepipe import _progress, compat

    if args.parameter or args.select or args.reference or args.resume or args.changed or args.name:
        raise UsageError(
            "-p/--select/--reference/--resume/--changed/--name apply to a pipeline object or definition "
            "(TARGET module:attr, file.py:attr or .json); a script starts its pipelines itself"
        )
    if not os.path.isfile(args.target):
        raise ResourceNotFoundError(f"script '{args.target}' does not exist")
    if args.quiet:
        os.environ[_progress.ENV] = "0"
    else:
        os.environ.setdefault(_progress.ENV, "1")
    store = session.store
    before = _all_execution_arns(store)
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.target)))
    _install(args.sdk)
    try:
        compat.run_script(args.target, args.script_args, sdk=args.sdk)
    except ImportError as exc:
        raise _import_failure(args.target, exc) from None
    from sagepipe.workflow import _interrupts
    from sagepipe.workflow._execution import _PipelineExecution

    if _interrupts._interrupted:  # the script caught the Ctrl-C that stopped its executions
        raise KeyboardInterrupt

    started = [_PipelineExecution(a, session) for a in sorted(_all_execution_arns(store) - before)]
    for execution in started:
        execution.wait(delay=1, max_attempts=10**9, progress=False)
    statuses = {e.arn: e.describe()["PipelineExecutionStatus"] for e in started}
    if args.json:
        _emit_json([{"PipelineExecutionArn": a, "PipelineExecutionStatus": s} for a, s in statuses.items()])
    elif not args.quiet:
        for execution in started:
            print(f"{execution.arn} {statuses[execution.arn]}", file=sys.stderr)
            for line in _failed_step_lines(execution):
                print(line, file=sys.stderr)
    return EXIT_OK if all(s == "Succeeded" for s in statuses.values()) else EXIT_FAILED


def _all_execution_arns(store) -> Set[str]:
    arns: Set[str] = set()
    for p in json.loads(store.list_pipelines()):
        arns.update(r["PipelineExecutionArn"] for r in json.loads(store.list_executions(p["PipelineName"])))
    return arns


def _target_or_stored(target: str, session, name: Optional[str] = None, sdk: str = "auto"):
    """A TARGET (``module:attr``, ``file.py:attr``, ``.json``) or, by name, a stored pipeline."""
    from sagepipe.workflow.pipeline import Pipeline

    if ":" in target or target.endswith(".json"):
        return load_pipeline(target, session, name, sdk)
    if target.endswith(".py"):
        raise UsageError(
            f"'{target}' is a script: it can only be run (`sagepipe run {target}`); name its pipeline object "
            f"as {target}:ATTRIBUTE"
        )
    try:
        session.store.load_pipeline(target)
    except ResourceNotFoundError as exc:
        raise ResourceNotFoundError(
            f"{exc}; a TARGET is a stored pipeline's name, module:attribute, file.py:attribute or a definition .json"
        ) from None
    return Pipeline.from_definition(session.store.definition_text(target), target, session)


def cmd_plan(args) -> int:
    session = _session(args)
    pipeline = _target_or_stored(args.target, session, args.name, args.sdk)
    config, parameters = _config_and_parameters(args, pipeline, session)
    plan = pipeline.plan(selective_execution_config=config, parameters=parameters or None)
    if args.json:
        _emit_json(
            {
                "Pipeline": plan.pipeline,
                "ReferenceExecutionArn": plan.reference_arn,
                "Steps": plan.entries,
                "Refused": plan.refused,
            }
        )
    else:
        print(plan)
    return EXIT_OK


def cmd_show(args) -> int:
    from sagepipe import display
    from sagepipe.workflow._execution import _PipelineExecution

    session = _session(args)
    states = None
    html = None
    arn = _execution_named(args.target, session.store)
    if arn is not None:
        execution = _PipelineExecution(arn, session)
        dag, states, _ = display.execution_states(execution)
        html = display.execution_html(execution) if args.html else None
        title = arn
    else:
        pipeline = _target_or_stored(args.target, session, sdk=getattr(args, "sdk", "auto"))
        dag = display.dag_of_definition(pipeline.definition(), pipeline.name)
        html = display.pipeline_html(pipeline) if args.html else None
        title = f"pipeline {pipeline.name}"
    if args.html:
        with open(args.html, "w") as f:
            f.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>")
            f.write(f"<body>{html}</body></html>")
    if args.json:
        _emit_json({"steps": dag["steps"], "edges": dag["edges"], "order": dag["order"], "states": {
            k: v["state"] for k, v in (states or {}).items()}})  # fmt: skip
    else:
        print(title)
        print(display.text_dag(dag, states))
    return EXIT_OK


def _execution_named(target: str, store) -> Optional[str]:
    """The execution ARN ``show``'s argument names, or None when it names a pipeline or TARGET
    (a stored pipeline's name wins over an execution id that happens to read the same)."""
    if _core.parse_execution_arn(target) is not None or target == "latest" or target.endswith("/latest"):
        return resolve_execution(target, store)
    if ":" in target or target.endswith((".json", ".py")) or _is_stored(target, store):
        return None
    if _EXECUTION_ID.match(target) and store.executions_with_id(target):
        return resolve_execution(target, store)
    return None


def _is_stored(pipeline: str, store) -> bool:
    try:
        store.load_pipeline(pipeline)
        return True
    except SagePipeError:  # not found, or not a valid pipeline name
        return False


def cmd_executions(args) -> int:
    rows = []
    # With --limit, the newest `limit` of each pipeline are enough (one index lookup each).
    page = {"MaxResults": args.limit} if args.limit and 0 < args.limit <= 100 else {}
    with _reader(args, args.cloud, args.region) as sm:
        names = (
            [args.pipeline]
            if args.pipeline
            else [p["PipelineName"] for p in _all_pages(sm.list_pipelines, "PipelineSummaries")]
        )
        for name in names:
            summaries = sm.list_pipeline_executions(PipelineName=name, **page)["PipelineExecutionSummaries"]
            rows += [dict(s, PipelineName=name) for s in summaries]
    rows.sort(key=lambda s: s["StartTime"], reverse=True)
    rows = rows[: args.limit] if args.limit else rows
    if args.json:
        _emit_json(rows)
    elif rows:
        print(_table(
            [(_when(r["StartTime"]), r["PipelineExecutionStatus"], r["PipelineName"],
              r.get("PipelineExecutionDisplayName", ""), r["PipelineExecutionArn"]) for r in rows],
            ("started", "status", "pipeline", "display name", "arn"),
        ))  # fmt: skip
    elif args.cloud:
        print("no executions on SageMaker", file=sys.stderr)
    else:
        session = _session(args)
        never = "" if session.store.exists else f": nothing has run with the store at {session.store_root} yet"
        print(f"no executions{never}", file=sys.stderr)
    return EXIT_OK


def cmd_steps(args) -> int:
    from sagepipe.display import step_note

    region = cloud_region(args.arn)
    with _reader(args, region is not None, region) as sm:
        steps = _all_pages(
            sm.list_pipeline_execution_steps,
            "PipelineExecutionSteps",
            PipelineExecutionArn=args.arn,
            SortOrder="Ascending",
        )
    if args.json:
        _emit_json(steps)
        return EXIT_OK
    rows = []
    for s in steps:
        if s.get("SelectiveExecutionResult"):  # its times are the run it is reused from: the note says which
            started, took = "", ""
        else:
            started = _when(s.get("StartTime"))
            took = f"{(s['EndTime'] - s['StartTime']).total_seconds():.2f} s" if s.get("EndTime") else ""
        rows.append((s["StepName"], s["StepStatus"], started, took, step_note(s)))
    print(_table(rows, ("step", "status", "started", "took", "note")))
    return EXIT_OK


def cmd_params(args) -> int:
    region = cloud_region(args.arn)
    with _reader(args, region is not None, region) as sm:
        params = _all_pages(
            sm.list_pipeline_parameters_for_execution, "PipelineParameters", PipelineExecutionArn=args.arn
        )
    if args.json:
        _emit_json(params)
    else:
        for p in params:
            print(f"{p['Name']}={p['Value']}")
    return EXIT_OK


def _cloud_logs(args) -> int:
    """``sagepipe logs`` of an execution on SageMaker: its step's job log, from CloudWatch Logs."""
    from sagepipe._cloud import step_logs

    if args.follow:
        raise UsageError("--follow applies to executions here; a SageMaker execution's log is printed as it is now")
    try:
        for line in step_logs(args.arn, args.step):
            print(line)
    except (ImportError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    except LookupError as exc:
        raise ResourceNotFoundError(str(exc)) from None
    return EXIT_OK


def cmd_logs(args) -> int:
    from sagepipe.workflow._execution import _PipelineExecution

    if cloud_region(args.arn):
        return _cloud_logs(args)
    session = _session(args)
    execution = _PipelineExecution(args.arn, session)
    record = execution._record()
    from sagepipe.workflow._store_access import execution_steps

    names = [s["name"] for s in execution_steps(session.store, args.arn, record["PipelineName"])]
    if args.step not in names:
        close = _core.suggest(args.step, names)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise ResourceNotFoundError(f"execution {args.arn} has no step '{args.step}'{hint}")
    path = session.store.log_path(args.arn, args.step)
    offset = 0
    # Streamed in pieces (a log can be far bigger than memory should hold); the decoder keeps a
    # character split between two pieces whole.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        wrote = False
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size < offset:
                    # The log was capped (its middle dropped) while it was followed.
                    offset = os.fstat(f.fileno()).st_size
                    sys.stdout.write("\n[sagepipe logs] the log was capped meanwhile; following its end\n")
                f.seek(offset)
                while chunk := f.read(_LOG_PIECE):
                    offset += len(chunk)
                    sys.stdout.write(decoder.decode(chunk))
                    wrote = True
        except FileNotFoundError:
            pass
        if wrote:
            sys.stdout.flush()
        if not args.follow or is_terminal(record["PipelineExecutionStatus"]):
            if args.follow and wrote:
                continue  # drain what was written before the end
            sys.stdout.write(decoder.decode(b"", final=True))
            return EXIT_OK
        time.sleep(0.2)
        record = execution._record()


def cmd_stop(args) -> int:
    from sagepipe.workflow._execution import _PipelineExecution

    session = _session(args)
    execution = _PipelineExecution(args.arn, session)
    record = json.loads(session.store.request_stop(args.arn))  # a no-op for an ended execution
    if is_terminal(record["PipelineExecutionStatus"]):
        print(f"{args.arn} already {record['PipelineExecutionStatus']}", file=sys.stderr)
        return EXIT_FAILED
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        status = execution._record()["PipelineExecutionStatus"]
        if is_terminal(status):
            if args.json:
                _emit_json({"PipelineExecutionArn": args.arn, "PipelineExecutionStatus": status})
            else:
                print(f"{args.arn} {status}")
            return EXIT_OK
        time.sleep(0.1)
    print(
        f"stop requested, but {args.arn} is still {execution._record()['PipelineExecutionStatus']} after "
        f"{args.timeout:g} s: its process (pid {record.get('OwnerPid')}) did not stop it in that time",
        file=sys.stderr,
    )
    return EXIT_FAILED


def cmd_deploy(args) -> int:
    try:
        from botocore.exceptions import BotoCoreError
        from botocore.exceptions import ClientError as AwsClientError
    except ImportError:
        from sagepipe.deploy import NEEDS_BOTO3

        raise UsageError(NEEDS_BOTO3) from None

    from sagepipe.deploy import deploy

    parameters = _parameters(args.parameter)
    selective = None
    if args.select:
        if not cloud_region(args.reference):
            raise UsageError(
                f"--select needs --reference: the ARN of a finished execution on SageMaker (not {args.reference!r}: "
                "a local execution cannot be the reference of a run on SageMaker)"
            )
        selective = {
            "SourcePipelineExecutionArn": args.reference,
            "SelectedSteps": [{"StepName": s} for s in _step_names(args.select)],
        }
    elif args.reference:
        raise UsageError("--reference only applies with --select")
    if (parameters or selective or args.max_parallel or args.display_name) and not args.start:
        raise UsageError("-p, --select, --max-parallel and --display-name are for the execution --start starts")
    session = _session(args)
    pipeline = _target_or_stored(args.target, session, args.name, args.sdk)
    try:
        done = deploy(
            pipeline,
            role_arn=args.role,
            bucket=args.bucket,
            region=args.region,
            start=args.start,
            parameters=parameters,
            parallelism_config={"MaxParallelExecutionSteps": args.max_parallel} if args.max_parallel else None,
            selective_execution_config=selective,
            execution_display_name=args.display_name,
            progress=None if args.json else print,
        )
    except (BotoCoreError, AwsClientError) as exc:
        print(f"sagepipe: deploy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ImportError as exc:  # @step functions built here need the SageMaker SDK to be deployed
        raise UsageError(str(exc)) from None
    if args.json:
        _emit_json(
            {
                "PipelineArn": done.pipeline_arn,
                "Created": done.created,
                "Bucket": done.bucket,
                "Uploads": [{"Local": u.local, "S3Uri": u.uri, "Size": u.size, "Sent": u.sent} for u in done.uploads],
                "PipelineExecutionArn": done.execution_arn,
            }
        )
    return EXIT_OK


def cmd_demo(args) -> int:
    from sagepipe import demo

    return demo.main(["--store", args.store] if args.store else [])


def _cutoff(text: Optional[str]) -> Optional[datetime]:
    if text is None:
        return None
    match = re.fullmatch(r"(\d+)([dhm])", text)
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return datetime.now(timezone.utc) - timedelta(**{unit: int(match.group(1))})
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--older-than expects an ISO date (2024-05-01) or an age (7d, 12h, 30m): '{text}'") from exc
    return value if value.tzinfo else value.astimezone()


def cmd_gc(args) -> int:
    from sagepipe import _gc

    store = _session(args).store
    gc_plan = _gc.plan(store, keep=args.keep, older_than=_cutoff(args.older_than), pipelines=args.pipeline or None)
    if not args.dry_run:
        # What was deleted: planned again under the store's lock.
        gc_plan = _gc.apply(store, gc_plan, remove_unreadable=args.remove_unreadable)
    if args.json:
        _emit_json(dict(gc_plan.as_dict(), dry_run=args.dry_run))
        return EXIT_OK
    verb = "would delete" if args.dry_run else "deleted"
    print(f"kept {len(gc_plan.keep)} execution(s); {verb} {len(gc_plan.delete)} execution(s) and "
          f"{len(gc_plan.artifacts)} artifact(s)")  # fmt: skip
    for arn in gc_plan.delete:
        print(f"  {verb} {arn}")
    for uri in gc_plan.artifacts:
        print(f"  {verb} {uri}")
    for uri, why in gc_plan.kept_artifacts.items():
        print(f"  kept {uri}: {why}")
    for record in gc_plan.unreadable:
        if record.get("Removed"):
            print(f"  removed unreadable record {record['Path']} ({record['Reason']})")
        else:
            hint = "" if args.remove_unreadable else "; --remove-unreadable removes execution records"
            print(f"  left unreadable record {record['Path']} ({record['Reason']}) in place{hint}", file=sys.stderr)
    return EXIT_OK


def cmd_store_migrate(args) -> int:
    done = json.loads(_session(args).store.migrate())
    if args.json:
        _emit_json(done)
    elif done["FromFormat"] == 0:
        print("no store there yet: nothing to migrate")
    elif done["FromFormat"] == done["ToFormat"]:
        print(f"the store is already format {done['ToFormat']}: nothing to migrate")
    else:
        print(
            f"migrated {done['Records']} record(s) from format {done['FromFormat']} to format {done['ToFormat']}; "
            f"the format-{done['FromFormat']} files are kept in {done['Legacy']}"
        )
    return EXIT_OK


# ---- parser ----


_EXECUTION_HELP = "an execution ARN, its id (or a unique start of it), latest, or PIPELINE/latest"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store directory (default: $SAGEPIPE_STORE or ./.sagepipe)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", help="a parameter value (repeat)")
    target.add_argument("--select", metavar="A,B", help="run only these steps (Selective Execution)")
    target.add_argument(
        "--reference",
        metavar="EXECUTION",
        help="reference execution of --select/--changed (default: latest); an ARN, id or latest",
    )
    target.add_argument(
        "--resume", metavar="EXECUTION", help="resume a failed or stopped execution (an ARN, id or latest)"
    )
    target.add_argument(
        "--changed", action="store_true", help="select the steps that changed since the reference, and downstream"
    )
    target.add_argument("--name", help="pipeline name (default: the object's, or the JSON file's stem)")
    target.add_argument(
        "--sdk",
        choices=["auto", "mirror", "real"],
        default="auto",
        help="the SageMaker SDK the TARGET is written for: mirror (sagemaker.X is sagepipe.X), real (the installed "
        "SDK, v2 or v3, its AWS calls answered locally) or auto (real when a real sagemaker is installed)",
    )

    parser = argparse.ArgumentParser(
        prog="sagepipe",
        description="Run Amazon SageMaker Pipelines locally.",
        epilog="an EXECUTION is an execution ARN, its id (or a unique start of it), latest or PIPELINE/latest. "
        "exit codes: 0 ok, 1 run failed or stopped, 2 usage, invalid request or a TARGET that cannot be loaded, "
        "3 not found, 130 interrupted (Ctrl-C stops the executions the command runs)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func, help_text: str, parents=()):
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common, *parents])
        p.set_defaults(func=func)
        return p

    p = add(
        "run",
        cmd_run,
        "run a pipeline: a script (run unchanged), module:pipeline, file.py:pipeline, a definition .json or a stored "
        "pipeline's name (whichever SDK created it)",
        [target],
    )
    p.add_argument("target", metavar="TARGET")
    p.add_argument("script_args", nargs="*", metavar="ARGS", help="arguments of a script TARGET (after --)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument("--display-name", help="PipelineExecutionDisplayName")
    p.add_argument("--description", help="PipelineExecutionDescription")
    p.add_argument("--max-parallel", type=int, metavar="N", help="MaxParallelExecutionSteps")
    p.add_argument("--in-process", action="store_true", help="run @step functions in this process (debuggers work)")

    p = add(
        "plan",
        cmd_plan,
        "what a run would do per step (run / reuse / not-selected / refused), without running",
        [target],
    )
    p.add_argument("target", metavar="TARGET|PIPELINE")

    p = add("show", cmd_show, "the DAG as text (a TARGET, a stored pipeline name, or an execution with states)")
    p.add_argument("target", metavar="TARGET|PIPELINE|EXECUTION")
    p.add_argument("--html", metavar="FILE", help="also write the notebook view (SVG DAG) to an HTML file")

    p = add("executions", cmd_executions, "list executions, newest first")
    p.add_argument("pipeline", nargs="?", help="only this pipeline")
    p.add_argument("--limit", type=int, metavar="N", help="at most N executions")
    p.add_argument("--cloud", action="store_true", help="the executions on SageMaker (the AWS configuration's)")
    p.add_argument("--region", help="with --cloud: AWS region (default: the AWS configuration's)")

    on_sagemaker = "; an execution ARN on SageMaker is read from there (the AWS configuration's credentials)"
    p = add("steps", cmd_steps, "the steps of an execution, in start order")
    p.add_argument("arn", metavar="EXECUTION", help=_EXECUTION_HELP + on_sagemaker)

    p = add("params", cmd_params, "the parameter values of an execution")
    p.add_argument("arn", metavar="EXECUTION", help=_EXECUTION_HELP + on_sagemaker)

    p = add("logs", cmd_logs, "what a step printed")
    p.add_argument("arn", metavar="EXECUTION", help=_EXECUTION_HELP)
    p.add_argument("step", metavar="STEP")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the execution ends")

    p = add("stop", cmd_stop, "stop a running execution (from any process)")
    p.add_argument("arn", metavar="EXECUTION", help=_EXECUTION_HELP)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to stop (default 30)")

    p = add(
        "deploy",
        cmd_deploy,
        "create or update the pipeline on Amazon SageMaker (local inputs uploaded to S3 under content-hash keys), "
        "optionally starting it; AWS credentials, region and endpoint come from the standard AWS configuration",
    )
    p.add_argument("target", metavar="TARGET|PIPELINE")
    p.add_argument("--role", required=True, metavar="ARN", help="the pipeline's execution role (RoleArn)")
    p.add_argument("--bucket", help="S3 bucket for uploads and default places (default: sagemaker-REGION-ACCOUNT)")
    p.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    p.add_argument("--start", action="store_true", help="also start an execution and print its ARN")
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", help="a parameter value (repeat)")
    p.add_argument("--select", metavar="A,B", help="with --start: run only these steps (Selective Execution)")
    p.add_argument("--reference", metavar="ARN", help="with --select: the SageMaker execution to reuse")
    p.add_argument("--max-parallel", type=int, metavar="N", help="with --start: MaxParallelExecutionSteps")
    p.add_argument("--display-name", help="with --start: PipelineExecutionDisplayName")
    p.add_argument("--name", help="pipeline name (default: the object's, or the JSON file's stem)")
    p.add_argument("--sdk", choices=["auto", "mirror", "real"], default="auto", help="as for run")

    # The demo prints a report for people: it takes --store but has no --json output.
    demo_help = (
        "the README demo: the Abalone pipeline, then a selective re-run of Train + Evaluate; both runs are "
        "recorded in the store (`sagepipe executions abalone-demo` lists them)"
    )
    p = sub.add_parser("demo", help=demo_help, description=demo_help)
    p.add_argument("--store", help="store directory (default: $SAGEPIPE_STORE or ./.sagepipe)")
    p.set_defaults(func=cmd_demo)

    store_help = "manage the store itself"
    p = sub.add_parser("store", help=store_help, description=store_help)
    store_sub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    migrate_help = (
        "migrate a store written by an older sagepipe to the current record format (also done on first use, "
        "unless one of its executions is still running)"
    )
    p = store_sub.add_parser("migrate", help=migrate_help, description=migrate_help, parents=[common])
    p.set_defaults(func=cmd_store_migrate)

    p = add(
        "gc",
        cmd_gc,
        "delete old executions and their artifacts (never what a kept execution or the model registry refers to)",
    )
    p.add_argument("--keep", type=int, default=10, metavar="N", help="keep the N newest per pipeline (default 10)")
    p.add_argument("--older-than", metavar="DATE|AGE", help="only delete executions older than this (7d, 2024-05-01)")
    p.add_argument("--pipeline", action="append", metavar="NAME", help="only this pipeline (repeat)")
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    p.add_argument(
        "--remove-unreadable",
        action="store_true",
        help="also remove execution records that cannot be read (their artifacts stay); default: report them",
    )
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``sagepipe`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    default_store = os.environ.get("SAGEPIPE_STORE")
    if getattr(args, "store", None):
        # A target builds its pipeline with PipelineSession() (the default store) and uploads its
        # code there: --store must be that default, or the run would read another store.
        os.environ["SAGEPIPE_STORE"] = os.path.abspath(args.store)
    from sagepipe.workflow.pipeline_context import pipeline_session_notice_hidden

    try:
        with pipeline_session_notice_hidden():
            return _dispatch(parser, args)
    finally:
        if default_store is None:
            os.environ.pop("SAGEPIPE_STORE", None)
        else:
            os.environ["SAGEPIPE_STORE"] = default_store


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        if getattr(args, "arn", None) is not None:
            args.arn = resolve_execution(args.arn, _session(args).store)
        return args.func(args)
    except KeyboardInterrupt:
        return _interrupted()
    except UsageError as exc:
        parser.error(str(exc))  # exits 2
    except TargetError as exc:
        print(f"sagepipe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ResourceNotFoundError as exc:
        print(f"sagepipe: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except ClientError as exc:
        print(f"sagepipe: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND if exc.response["Error"]["Code"] == "ResourceNotFound" else EXIT_USAGE
    except (SagePipeError, ValueError) as exc:
        code = EXIT_FAILED if _is_runtime_failure(exc) else EXIT_USAGE
        print(f"sagepipe: {type(exc).__name__}: {exc}", file=sys.stderr)
        return code
    except (NotImplementedError, OSError) as exc:
        print(f"sagepipe: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED


def _interrupted() -> int:
    """Ctrl-C: stop the executions this command runs and say in one line what was stopped."""
    from sagepipe.workflow import _interrupts

    line = _interrupts.settle_interrupted()
    _interrupts.report_interrupt(line or "sagepipe: interrupted (no execution was running)", EXIT_INTERRUPTED)
    return EXIT_INTERRUPTED


def _is_runtime_failure(exc: Exception) -> bool:
    from sagepipe.exceptions import StepFailedError, StoreError

    return isinstance(exc, (StepFailedError, StoreError))


if __name__ == "__main__":
    raise SystemExit(main())
