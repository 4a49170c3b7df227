"""Selective Execution beyond the service: selection shorthands, strict mode, changed-step
selection, and caching (alone and inside selective runs). Real pipelines on a temporary store;
every step counts its invocations in the work directory (see ``selective_lib``).
"""

import importlib
import json
import sys
import time

import pytest
import selective_lib as lib
from sagepipe.exceptions import SelectionError
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig


@pytest.fixture
def wd(tmp_path):
    path = tmp_path / "wd"
    path.mkdir()
    return str(path)


@pytest.fixture
def pipeline(session, wd):
    return lib.build(session, wd)


def finished(execution):
    execution.wait()
    return execution


def steps_of(execution):
    return {s["StepName"]: s for s in execution.list_steps()}


# ---------------------------------------------------------------------------------------------
# shorthands and strict mode


@pytest.mark.parametrize(
    "items, expected",
    [
        (["Train+"], ["Train", "Evaluate", "Check", "Register", "Fail"]),
        (["+Evaluate"], ["Preprocess", "Train", "Evaluate"]),
        (["Train..Check"], ["Train", "Evaluate", "Check"]),
        (["+Train+"], lib.STEPS),
        (["Train", "Evaluate+"], ["Train", "Evaluate", "Check", "Register", "Fail"]),
    ],
)
def test_shorthands_select_along_the_graph(pipeline, items, expected):
    finished(pipeline.start())
    plan = pipeline.plan(selective_execution_config=SelectiveExecutionConfig(items))
    chosen = [e["step"] for e in plan.entries if e["action"] in ("run", "condition-dependent")]
    assert chosen == expected


def test_shorthand_errors_name_the_item(pipeline):
    finished(pipeline.start())
    with pytest.raises(SelectionError) as err:
        pipeline.plan(selective_execution_config=SelectiveExecutionConfig(["Trian+", "Check..Train"]))
    text = str(err.value)
    assert "'Trian' is not in pipeline" in text and "did you mean 'Train'" in text
    assert "'Check..Train' selects nothing: no path leads from 'Check' to 'Train'" in text


def test_shorthand_run_records_the_resolved_names(pipeline, wd):
    ref = finished(pipeline.start())
    cfg = SelectiveExecutionConfig(["Train..Evaluate"])
    ex = finished(pipeline.start(selective_execution_config=cfg))
    assert cfg.source_pipeline_execution_arn == ref.arn
    assert cfg.resolved_selected_steps == ["Train", "Evaluate"]
    recorded = ex.describe()["SelectiveExecutionConfig"]
    assert recorded["SelectedSteps"] == [{"StepName": "Train"}, {"StepName": "Evaluate"}]
    assert "Strict" not in recorded and lib.count(wd, "Preprocess") == 1 and lib.count(wd, "Train") == 2


def two_branches(session, wd, n_extra=0):
    @step(name="Left")
    def left(d):
        return lib.act(d, "Left")

    @step(name="Right")
    def right(d):
        return lib.act(d, "Right")

    steps = [left(wd), right(wd)]
    for k in range(n_extra):
        steps.append(step(name=f"Extra{k}")(lib.act)(wd, f"Extra{k}"))
    return Pipeline(name="branches", steps=steps, sagemaker_session=session)


def test_strict_mode_enforces_the_service_limits(session, wd):
    pipeline = two_branches(session, wd, n_extra=50)
    loose = SelectiveExecutionConfig(["Left", "Right"])
    assert pipeline.plan(selective_execution_config=loose).actions()["Right"] == "run"
    with pytest.raises(SelectionError, match=r"\[Left, Right\] are not connected in the DAG \(strict mode\)"):
        pipeline.plan(selective_execution_config=SelectiveExecutionConfig(["Left", "Right"], strict=True))
    many = [f"Extra{k}" for k in range(50)] + ["Left"]
    with pytest.raises(SelectionError, match="51 steps are selected; SageMaker accepts at most 50"):
        pipeline.plan(selective_execution_config=SelectiveExecutionConfig(many, strict=True))
    # The SDK's request shape never carries sagepipe's keys.
    assert SelectiveExecutionConfig(["Left"], strict=True).to_request() == {"SelectedSteps": [{"StepName": "Left"}]}


# ---------------------------------------------------------------------------------------------
# changed-step selection


def test_nothing_changed_is_an_error_that_says_so(pipeline):
    ref = finished(pipeline.start())
    with pytest.raises(SelectionError, match=f"no step changed since reference execution {ref.arn}"):
        pipeline.start(selective_execution_config=SelectiveExecutionConfig.changed_steps())


def test_changed_parameter_selects_its_readers_and_downstream(pipeline, wd):
    ref = finished(pipeline.start())
    params = pipeline.build_parameters_from_execution(ref.arn, {"Lr": 2.0})
    cfg = SelectiveExecutionConfig.changed_steps()
    plan = pipeline.plan(selective_execution_config=cfg, parameters=params)
    assert plan.actions() == {
        "Preprocess": "reuse",
        "Train": "run",
        "Evaluate": "run",
        "Check": "run",
        "Register": "condition-dependent",
        "Fail": "condition-dependent",
    }
    assert "parameter Lr changed 1.0 -> 2.0" in plan["Train"]["reason"]
    assert "downstream of changed step 'Train'" in plan["Evaluate"]["reason"]
    assert plan["Preprocess"]["reason"].startswith("unchanged since the reference")
    ex = finished(pipeline.start(selective_execution_config=cfg, parameters=params))
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert cfg.resolved_selected_steps == ["Train", "Evaluate", "Check", "Register", "Fail"]
    assert lib.count(wd, "Preprocess") == 1 and lib.count(wd, "Train") == 2 and lib.count(wd, "Register") == 2
    assert steps_of(ex)["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}


def test_changed_threshold_reruns_only_the_condition_onwards(pipeline, wd):
    finished(pipeline.start())
    plan = pipeline.plan(
        selective_execution_config=SelectiveExecutionConfig.changed_steps(), parameters={"Threshold": 7.0}
    )
    assert [e["step"] for e in plan.entries if e["action"] == "run"] == ["Check"]
    assert "parameter Threshold changed 5.0 -> 7.0" in plan["Check"]["reason"]
    assert plan.actions()["Train"] == "reuse"


def test_a_failed_step_in_the_reference_counts_as_changed(pipeline, wd):
    lib.set_mode(wd, "Evaluate", "bad")
    ref = finished(pipeline.start())
    assert ref.describe()["PipelineExecutionStatus"] == "Failed"
    lib.set_mode(wd, "Evaluate", "ok")
    plan = pipeline.plan(selective_execution_config=SelectiveExecutionConfig.changed_steps())
    assert plan["Evaluate"]["action"] == "run" and "Failed in the reference" in plan["Evaluate"]["reason"]
    assert plan.actions()["Train"] == "reuse"


MODULE = """
import helpers
import selective_lib


def prepare(wd):
    return selective_lib.act(wd, "Prepare")


def fit(data, wd):
    selective_lib.act(wd, "Fit")
    return helpers.bump(data)
"""

HELPERS = """
def bump(x):
    return x + 1
"""


@pytest.fixture
def code_pipeline(session, wd, tmp_path, monkeypatch):
    """Two steps whose functions live in a project module the test edits."""
    src = tmp_path / "proj"
    src.mkdir()
    (src / "mysteps.py").write_text(MODULE)
    (src / "helpers.py").write_text(HELPERS)
    monkeypatch.syspath_prepend(str(src))
    for name in ("mysteps", "helpers"):
        sys.modules.pop(name, None)

    def build():
        importlib.reload(importlib.import_module("helpers"))
        module = importlib.import_module("mysteps")
        importlib.reload(module)
        fitted = step(name="Fit")(module.fit)(step(name="Prepare")(module.prepare)(wd), wd)
        return Pipeline(name="code-demo", steps=[fitted], sagemaker_session=session)

    yield src / "mysteps.py", build
    for name in ("mysteps", "helpers"):
        sys.modules.pop(name, None)


def test_comment_and_whitespace_edits_are_not_changes(code_pipeline):
    path, build = code_pipeline
    finished(build().start())
    path.write_text(MODULE.replace("def fit(data, wd):", "# a comment\n\n\ndef fit(data,   wd):  # why\n"))
    with pytest.raises(SelectionError, match="no step changed"):
        build().plan(selective_execution_config=SelectiveExecutionConfig.changed_steps())


def test_function_source_edit_selects_the_step(code_pipeline, wd):
    path, build = code_pipeline
    finished(build().start())
    path.write_text(MODULE.replace("return helpers.bump(data)", "return helpers.bump(data) + 1"))
    pipeline = build()
    plan = pipeline.plan(selective_execution_config=SelectiveExecutionConfig.changed_steps())
    assert plan.actions() == {"Prepare": "reuse", "Fit": "run"}
    # The engine names the kind, the signature the function: "function fit", never "function function fit".
    assert plan["Fit"]["reason"] == "selected (function fit changed)"
    ex = finished(pipeline.start(selective_execution_config=SelectiveExecutionConfig.changed_steps()))
    assert ex.result("Fit") == 3 and lib.count(wd, "Prepare") == 1 and lib.count(wd, "Fit") == 2


def test_edit_in_an_imported_project_module_counts(code_pipeline, wd):
    path, build = code_pipeline
    finished(build().start())
    # Code the steps do not use may change freely.
    path.write_text(MODULE + "\n\nTHRESHOLD = 3\n")
    with pytest.raises(SelectionError, match="no step changed"):
        build().plan(selective_execution_config=SelectiveExecutionConfig.changed_steps())
    # A module the function imports is part of its code.
    (path.parent / "helpers.py").write_text(HELPERS.replace("x + 1", "x + 10"))
    pipeline = build()
    plan = pipeline.plan(selective_execution_config=SelectiveExecutionConfig.changed_steps())
    assert plan.actions() == {"Prepare": "reuse", "Fit": "run"}
    assert "function fit changed" in plan["Fit"]["reason"]
    ex = finished(pipeline.start(selective_execution_config=SelectiveExecutionConfig.changed_steps()))
    assert ex.result("Fit") == 11


# ---------------------------------------------------------------------------------------------
# caching


def cached(pipeline, session, steps, expire="T1H"):
    """The same pipeline with CacheConfig on the named steps (as SageMaker would get it)."""
    definition = json.loads(pipeline.definition())

    def mark(items):
        for s in items:
            if s["Name"] in steps:
                s["CacheConfig"] = {"Enabled": True, "ExpireAfter": expire}
            for branch in ("IfSteps", "ElseSteps"):
                mark(s.get("Arguments", {}).get(branch, []))

    mark(definition["Steps"])
    return Pipeline.from_definition(json.dumps(definition), pipeline.name, sagemaker_session=session)


def test_cache_hit_reuses_the_latest_successful_run(pipeline, session, wd):
    p = cached(pipeline, session, {"Preprocess"})
    first = finished(p.start())
    rec = steps_of(first)["Preprocess"]
    assert "CacheHitResult" not in rec or rec["CacheHitResult"] is None
    plan = p.plan()
    assert plan["Preprocess"]["action"] == "cache-hit"
    assert plan["Preprocess"]["source_execution_arn"] == first.arn
    assert "cache hit" in plan["Preprocess"]["reason"]
    second = finished(p.start())
    hit = steps_of(second)["Preprocess"]
    assert hit["StepStatus"] == "Succeeded"
    assert hit["CacheHitResult"] == {"SourcePipelineExecutionArn": first.arn}
    assert lib.count(wd, "Preprocess") == 1 and lib.count(wd, "Train") == 2
    assert second.result("Preprocess")["token"] == first.result("Preprocess")["token"]
    assert "cache hit" in second.logs("Preprocess")


def test_cache_miss_is_explained(pipeline, session, wd):
    p = cached(pipeline, session, {"Train"})
    finished(p.start())
    plan = p.plan(parameters={"Lr": 3.0})
    # Train's input comes from Preprocess, which runs again (no cache): decided at run time.
    assert plan["Train"]["action"] == "run" and "decided when it runs" in plan["Train"]["reason"]
    again = finished(p.start(parameters={"Lr": 3.0}))
    raw = json.loads(p._store.load_steps(again.arn))
    train = next(s for s in raw if s["StepName"] == "Train")
    assert train["StepStatus"] == "Succeeded" and not train.get("CacheHitResult")
    assert "AlgorithmSpecification.ContainerArguments" in train["CacheMissReason"]


def test_cache_expiry(pipeline, session, wd):
    p = cached(pipeline, session, {"Preprocess"}, expire="PT1S")
    finished(p.start())
    time.sleep(1.2)
    plan = p.plan()
    assert plan["Preprocess"]["action"] == "run" and "older than ExpireAfter" in plan["Preprocess"]["reason"]
    finished(p.start())
    assert lib.count(wd, "Preprocess") == 2


def test_selective_run_with_caching_reports_one_result_per_step(pipeline, session, wd):
    p = cached(pipeline, session, {"Train"})
    ref = finished(p.start())
    ex = finished(p.start(selective_execution_config=SelectiveExecutionConfig(["Train", "Evaluate"])))
    steps = steps_of(ex)
    assert steps["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert not steps["Preprocess"].get("CacheHitResult")
    # Train's inputs are the reference's Preprocess outputs, so the cache hits.
    assert steps["Train"]["CacheHitResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert not steps["Train"].get("SelectiveExecutionResult")
    assert lib.count(wd, "Train") == 1 and lib.count(wd, "Evaluate") == 2


def test_plan_predicts_cache_hits_in_selective_runs(pipeline, session):
    p = cached(pipeline, session, {"Train"})
    ref = finished(p.start())
    plan = p.plan(selective_execution_config=SelectiveExecutionConfig(["Train", "Evaluate"]))
    assert plan["Train"]["action"] == "cache-hit" and plan["Train"]["source_execution_arn"] == ref.arn
    assert plan["Evaluate"]["action"] == "run"
    text = str(plan)
    assert "cache-hit" in text and ref.arn in text
