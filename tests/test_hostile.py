"""Hostile input, second catalogue (the first, for definitions and start parameters, is
``test_validation_catalogue.py``): store URIs that try to escape, run-time ``Std:JsonGet``
failures, parameter values of odd types, selective configs that point elsewhere, hostile
arguments to the execution API, and very large or deep pipelines. Archive members that try
to leave their extraction directory are rows of ``crates/sagepipe-core/src/executors/archive.rs``'s unit test
(ten member shapes) and run end to end in
``test_jobs.py::test_archive_members_escaping_the_job_fail_the_step_and_write_nothing``.

The next chapter (issue "Trust, round 2": attacks by real jobs, processes, a full disk and
races) is in three files, by what is attacked: ``test_trust_jobs.py`` (job names, symlinks and
special files in outputs, merges that would delete, archive limits), ``test_trust_store.py``
(gc and what it keeps, concurrent starts, corrupt records, the store lock, request validation)
and ``test_trust_process.py`` (a full disk, owners that die, forked children, log caps).

Every row states the typed error (or, for run-time rows, the failing step) and the culprit that
must be named. After each row the store is checked: nothing half written (every JSON record
whole), nothing new for a refused request, nothing written outside the store. Add rows to the
tables to grow it.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import crash_lib
import pytest
import store_lib
from sagepipe import _core
from sagepipe.exceptions import (
    ParameterError,
    ReferenceExecutionError,
    ResourceNotFoundError,
    SagePipeError,
    SelectionError,
    ValidationError,
)
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionEquals, ConditionGreaterThan
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline, _PipelineExecution
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

BUCKET = "sagemaker-local-000000000000"


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException" or "pyo3" in (type(exc).__module__ or "")


def _raised(fn: Callable[[], Any]) -> Optional[BaseException]:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - panics are BaseExceptions; they must not escape
        assert not _is_panic(exc), f"a Rust panic escaped: {exc!r}"
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return exc
    return None


def _snapshot(root: Path) -> Dict[str, Any]:
    """Every record (a digest of them all) and every file under ``root`` with its size (lock files
    are created by readers too, and the database's files change under readers: its content is in
    the digest)."""
    files: Dict[str, Any] = {
        str(p.relative_to(root)): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and p.name not in ("lock", ".lock") and not store_lib.is_database_file(p.name)
    }
    return {"records": store_lib.record_digest(root), "files": files}


def _records_whole(root: Path) -> None:
    assert store_lib.torn_records(root) == []
    for p in root.rglob("*.json"):  # the other JSON files: function results
        if not p.name.startswith(".") and p.relative_to(root).parts[0] not in store_lib.RECORD_ROOTS:
            json.loads(p.read_bytes())


@dataclass
class World:
    """A store with two pipelines and a finished execution of each, shared by the rows."""

    tmp: Path
    session: Any
    pipeline: Pipeline
    arn: str
    other_arn: str

    @property
    def store(self) -> Path:
        return self.tmp / "store"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("hostile")
    session = PipelineSession(store=tmp / "store", function_step_mode="in_process")
    pipeline = crash_lib.build(session)
    ex = pipeline.start(parameters={"Size": 64})
    ex.wait(delay=1, max_attempts=120)
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"

    @step(name="Solo")
    def solo():
        return 1

    other = Pipeline(name="other", steps=[solo()], sagemaker_session=session).start()
    other.wait(delay=1, max_attempts=120)
    return World(tmp, session, pipeline, ex.arn, other.arn)


# --------------------------------------------------------------------------------------------
# 1. requests refused before anything runs: typed error naming the culprit, store unchanged


@dataclass
class Refused:
    id: str
    call: Callable[[World], Any]
    error: Any  # a class or a tuple of classes
    culprit: str
    kind: Optional[str] = None  # a problem type err.errors() must contain


def _selective(selected, arn=None):
    return SelectiveExecutionConfig(
        selected_steps=selected, source_pipeline_execution_arn=arn, reference_latest_execution=False
    )


def _start(w: World, **kw):
    return Pipeline(name=crash_lib.PIPELINE, sagemaker_session=w.session).start(**kw)


def _deleted_execution_arn(w: World) -> str:
    return w.arn[: -len("abcdefghijkl")] + "deleted00000"


REFUSED = [
    # --- S3 URIs that try to leave the store ----------------------------------------------------
    *[
        Refused(f"uri-{name}", (lambda u: lambda w: w.session.store.uri_to_path(u))(uri), ValidationError, culprit)
        for name, uri, culprit in [
            ("dotdot", "s3://b/../../etc", "s3://b/../../etc"),
            ("dotdot-deep", "s3://b/a/b/../../../../etc/passwd", "../../../../etc"),
            ("bucket-dotdot", "s3://../x", "s3://../x"),
            ("bucket-dot", "s3://./x", "s3://./x"),
            ("empty-bucket", "s3:///etc/passwd", "s3:///etc/passwd"),
            ("double-slash-dotdot", "s3://b//..//..//x", "s3://b//..//..//x"),
            ("nul-key", "s3://b/a\x00b", "s3://b/a"),
            ("nul-bucket", "s3://b\x00/k", "s3://b"),
            ("backslash-bucket", "s3://b\\..\\../k", "s3://b"),
            ("dot-key", "s3://b/./k", "s3://b/./k"),
            ("other-scheme", "gs://b/k", "gs://b/k"),
            ("http", "https://example.com/x", "https://example.com/x"),
        ]
    ],
    # --- parameter values of the wrong type ------------------------------------------------------
    # Values no JSON parameter can be are refused in Python (ValidationError), the rest by the core.
    *[
        Refused(
            f"param-{name}",
            (lambda v: lambda w: _start(w, parameters={"Size": v}))(value),
            (ParameterError, ValidationError),
            "Size",
        )
        for name, value in [
            ("dict", {"a": 1}),
            ("list", [1, 2]),
            ("none", None),
            ("nan", float("nan")),
            ("inf", float("inf")),
            ("huge-int", 2**70),
            ("fraction", 0.5),
            ("words", "ten"),
            ("long-string", "9" * 100_000),
            ("bool", True),
            ("nul", "1\x00"),
        ]
    ],
    Refused(
        "param-unknown-hostile-name",
        lambda w: _start(w, parameters={"../../etc/\x00": 1}),
        ParameterError,
        "../../etc/",
        "unknown_parameter",
    ),
    # --- selective configs that point elsewhere ------------------------------------------------
    Refused(
        "select-step-of-another-pipeline",
        lambda w: _start(w, selective_execution_config=_selective(["Solo"], w.arn)),
        SelectionError,
        "Solo",
        "unknown_step",
    ),
    Refused(
        "reference-of-another-pipeline",
        lambda w: _start(w, selective_execution_config=_selective(["Join"], w.other_arn)),
        ReferenceExecutionError,
        "other",
        "reference_other_pipeline",
    ),
    Refused(
        "reference-deleted-execution",
        lambda w: _start(w, selective_execution_config=_selective(["Join"], _deleted_execution_arn(w))),
        ReferenceExecutionError,
        "deleted00000",
        "reference_not_found",
    ),
    Refused(
        "reference-not-an-arn",
        lambda w: _start(
            w,
            selective_execution_config=_selective(["Join"], "arn:aws:sagemaker:local:0:pipeline/../../x/execution/abc"),
        ),
        ReferenceExecutionError,
        "SourcePipelineExecutionArn",
        "reference_not_found",
    ),
    Refused(
        "reference-garbage",
        lambda w: _start(w, selective_execution_config=_selective(["Join"], "garbage")),
        ReferenceExecutionError,
        "garbage",
        "reference_not_found",
    ),
    Refused(
        "select-hostile-name",
        lambda w: _start(w, selective_execution_config=_selective(["../../Join\x00"], w.arn)),
        SelectionError,
        "../../Join",
        "unknown_step",
    ),
    Refused(
        "select-nothing",
        lambda w: _start(w, selective_execution_config=_selective([], w.arn)),
        SelectionError,
        "SelectedSteps",
        "empty_selection",
    ),
    Refused(
        "select-not-path-closed",
        lambda w: _start(w, selective_execution_config=_selective(["Gen", "Join"], w.arn)),
        SelectionError,
        "Left",
        "selection_not_path_closed",
    ),
    Refused(
        "plan-step-of-another-pipeline",
        lambda w: Pipeline(name=crash_lib.PIPELINE, sagemaker_session=w.session).plan(_selective(["Solo"], w.arn)),
        SelectionError,
        "Solo",
        "unknown_step",
    ),
    Refused(
        "resume-other-pipeline-deleted",
        lambda w: SelectiveExecutionConfig.from_failed_execution(
            _deleted_execution_arn(w), sagemaker_session=w.session
        ),
        ReferenceExecutionError,
        "deleted00000",
    ),
    # --- the execution API with hostile names ----------------------------------------------------
    Refused(
        "execution-arn-traversal",
        lambda w: _PipelineExecution(
            "arn:aws:sagemaker:local:0:pipeline/../../etc/execution/passwd", w.session
        ).describe(),
        ResourceNotFoundError,
        "../../etc",
    ),
    Refused("execution-arn-garbage", lambda w: _PipelineExecution("x", w.session).describe(), ValidationError, "x"),
    Refused(
        "result-of-unknown-step",
        lambda w: _PipelineExecution(w.arn, w.session).result("../../Gen"),
        ValueError,
        "../../Gen",
    ),
    Refused(
        "logs-traversal",
        lambda w: _PipelineExecution(w.arn, w.session).logs("../../../../../../etc/passwd"),
        ValueError,
        "../../../../../../etc/passwd",
    ),
    Refused(
        "pipeline-name-traversal",
        lambda w: Pipeline(name="../other", sagemaker_session=w.session).describe(),
        ValidationError,
        "../other",
    ),
    Refused(
        "non-utf8-definition-bytes",
        lambda w: Pipeline.from_definition(
            b'{"Steps": [{"Name": "\xff\xfe", "Type": "Fail"}]}'.decode("utf-8", "surrogateescape"),
            name="bytes",
            sagemaker_session=w.session,
        ),
        SagePipeError,
        "not valid Unicode",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REFUSED])
def test_refused_requests(world: World, case: Refused):
    before = _snapshot(world.store)
    outside = sorted(p.name for p in world.tmp.iterdir())
    exc = _raised(lambda: case.call(world))
    assert exc is not None, "expected an error"
    assert isinstance(exc, case.error), f"expected {case.error}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, SagePipeError) or case.error is ValueError, f"{type(exc).__name__}: {exc}"
    text = str(exc)
    named = case.culprit in text or any(
        case.culprit in " ".join([e["msg"], *e["loc"]]) for e in getattr(exc, "errors", lambda: [])()
    )
    assert named, f"{case.culprit!r} not named in: {text[:500]}"
    assert len(text) < 5_000, "the message should shorten what it quotes"
    if case.kind:
        assert case.kind in {e["type"] for e in exc.errors()}, exc.errors()
    assert _snapshot(world.store) == before, "a refused request wrote to the store"
    assert sorted(p.name for p in world.tmp.iterdir()) == outside
    _records_whole(world.store)


# --------------------------------------------------------------------------------------------
# 2. failures found while running: the step fails naming the culprit, nothing leaves the store


def _emit_and_check(condition_for: Callable[[Any], Any], emitted: Any):
    @step(name="Emit")
    def emit():
        return emitted

    out = emit()
    return [ConditionStep(name="Check", conditions=[condition_for(out)], if_steps=[], else_steps=[])]


def _mutated_function_step(field: str, value: Any) -> Callable[[PipelineSession], str]:
    """A definition of one function step with one of its URIs replaced."""

    def make(session):
        @step(name="Emit")
        def emit():
            return {"x": 1}

        d = json.loads(Pipeline(name="hostile-run", steps=[emit()], sagemaker_session=session).definition())
        args = d["Steps"][0]["Arguments"]
        if field == "S3OutputPath":
            args["OutputDataConfig"]["S3OutputPath"] = value
        else:
            cargs = args["AlgorithmSpecification"]["ContainerArguments"]
            cargs[cargs.index(field) + 1] = value
        return json.dumps(d)

    return make


@dataclass
class RunFailure:
    id: str
    steps: Optional[Callable[[], list]] = None  # builds the pipeline's steps
    definition: Optional[Callable[[PipelineSession], str]] = None  # or its definition text
    failed_step: str = "Check"
    culprit: str = ""


BIG = "x" * (65 * 1024 * 1024)

RUN_FAILURES = [
    RunFailure(
        "jsonget-missing-key",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["nokey"], 1), {"a": 1}),
        culprit="nokey",
    ),
    RunFailure(
        "jsonget-missing-nested",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["a"]["b"]["c"], 1), {"a": {"b": {}}}),
        culprit="c",
    ),
    RunFailure(
        "jsonget-index-out-of-range",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["items"][7], 1), {"items": [1, 2, 3]}),
        culprit="[7]",
    ),
    RunFailure(
        "jsonget-key-into-number",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["n"]["deeper"], 1), {"n": 5}),
        culprit="deeper",
    ),
    RunFailure(
        "jsonget-string-vs-number",
        lambda: _emit_and_check(lambda o: ConditionGreaterThan(o["name"], 3), {"name": "abc"}),
        culprit="abc",
    ),
    RunFailure(
        "jsonget-null-vs-number",
        lambda: _emit_and_check(lambda o: ConditionGreaterThan(o["v"], 3), {"v": None}),
        culprit="null",
    ),
    RunFailure(
        "jsonget-result-not-json",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["a"], 1), {1, 2}),
        culprit="results.json",
    ),
    RunFailure(
        "jsonget-huge-file",
        lambda: _emit_and_check(lambda o: ConditionEquals(o["n"], 1), {"n": 1, "big": BIG}),
        culprit="at most",
    ),
    RunFailure(
        "output-path-escapes",
        definition=_mutated_function_step("S3OutputPath", f"s3://{BUCKET}/../../../escape"),
        failed_step="Emit",
        culprit="../../../escape",
    ),
    RunFailure(
        "payload-base-escapes",
        definition=_mutated_function_step("--s3_base_uri", f"s3://{BUCKET}/../../escape"),
        failed_step="Emit",
        culprit="../../escape",
    ),
    RunFailure(
        "payload-dir-missing",
        definition=_mutated_function_step("--func_step_s3_dir", "nonexistent"),
        failed_step="Emit",
        culprit="nonexistent",
    ),
    RunFailure(
        "output-path-other-scheme",
        definition=_mutated_function_step("S3OutputPath", "ftp://h/x"),
        failed_step="Emit",
        culprit="ftp://h/x",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in RUN_FAILURES])
def test_run_failures(tmp_path, case: RunFailure):
    session = PipelineSession(store=tmp_path / "store", function_step_mode="in_process")
    if case.definition is not None:
        pipeline = Pipeline.from_definition(case.definition(session), name="hostile-run", sagemaker_session=session)
    else:
        pipeline = Pipeline(name="hostile-run", steps=case.steps(), sagemaker_session=session)
    ex = pipeline.start()
    ex.wait(delay=1, max_attempts=300)
    assert ex.describe()["PipelineExecutionStatus"] == "Failed"
    steps = {s["StepName"]: s for s in ex.list_steps()}
    failed = steps[case.failed_step]
    assert failed["StepStatus"] == "Failed", steps
    assert case.culprit in failed["FailureReason"], failed["FailureReason"]
    assert len(failed["FailureReason"]) <= 1100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert not (tmp_path.parent / "escape").exists()
    _records_whole(tmp_path / "store")


# --------------------------------------------------------------------------------------------
# 3. size: 1,000-deep chains validate, plan and run in-process; selective runs over them plan


def _chain(n: int) -> Dict[str, Any]:
    steps = [
        {
            "Name": f"S{i}",
            "Type": "Condition",
            "DependsOn": [f"S{i - 1}"] if i else [],
            "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.One"}, "RightValue": 1}],
                "IfSteps": [],
                "ElseSteps": [],
            },
        }
        for i in range(n)
    ]
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "One", "Type": "Integer", "DefaultValue": 1}],
        "Steps": steps,
    }


def test_thousand_deep_chain_validates_plans_runs_and_resumes(tmp_path):
    n = 1_000
    session = PipelineSession(store=tmp_path / "store", function_step_mode="in_process")
    definition = _chain(n)
    summary = json.loads(_core.compile_definition(json.dumps(definition), "chain"))
    assert len(summary["order"]) == n
    pipeline = Pipeline.from_definition(definition, name="chain", sagemaker_session=session)
    ex = pipeline.start()
    ex.wait(delay=1, max_attempts=300)
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert len(ex.list_steps()) == n
    # Select the second half: the first half (500 deep) is reused from the reference.
    config = _selective([f"S{i}" for i in range(n // 2, n)][:50] + [f"S{i}" for i in range(n // 2 + 50, n)], ex.arn)
    plan = pipeline.plan(config)
    actions = plan.actions()
    assert sum(a == "reuse" for a in actions.values()) == n // 2
    assert sum(a == "run" for a in actions.values()) == n // 2
    again = pipeline.start(selective_execution_config=config)
    again.wait(delay=1, max_attempts=300)
    assert again.describe()["PipelineExecutionStatus"] == "Succeeded"
    listed = again.list_steps()
    assert len(listed) == n
    assert sum("SelectiveExecutionResult" in s for s in listed) == n // 2


def test_ten_thousand_steps_with_a_deep_condition_chain(tmp_path):
    definition = _chain(10_000)
    _core.compile_definition(json.dumps(definition), "wide")
    # A 10,000-deep Not/Not/... condition is refused by the JSON nesting limit, not a stack overflow.
    leaf = '{"Type": "Equals", "LeftValue": 1, "RightValue": 1}'
    deep = '{"Type": "Not", "Condition": ' * 10_000 + leaf + "}" * 10_000
    original = json.dumps(_chain(1)["Steps"][0]["Arguments"]["Conditions"])
    text = json.dumps(_chain(1)).replace(original, f"[{deep}]")
    assert len(text) > 300_000
    exc = _raised(lambda: _core.compile_definition(text, "deep"))
    assert exc is not None and isinstance(exc, SagePipeError)
    assert exc.errors()[0]["type"] == "malformed_json"


def test_deep_but_accepted_condition_nesting_runs(tmp_path):
    """Nesting just under the parser's limit still evaluates without exhausting the stack of
    an engine thread."""
    ran = 0
    for depth in (60, 120):
        deep = {"Type": "Equals", "LeftValue": 1, "RightValue": 1}
        for _ in range(depth):
            deep = {"Type": "Not", "Condition": {"Type": "Not", "Condition": deep}}
        d = _chain(1)
        d["Steps"][0]["Arguments"]["Conditions"] = [deep]
        text = json.dumps(d)
        exc = _raised(lambda: _core.compile_definition(text, "deep"))  # noqa: B023 - called at once
        if exc is not None:
            assert isinstance(exc, SagePipeError) and exc.errors()[0]["type"] == "malformed_json"
            continue
        session = PipelineSession(store=tmp_path / f"store{depth}", function_step_mode="in_process")
        ex = Pipeline.from_definition(d, name="deep", sagemaker_session=session).start()
        ex.wait(delay=1, max_attempts=60)
        assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
        ran += 1
    assert ran >= 1, "no nesting depth was accepted: the test checked nothing"
