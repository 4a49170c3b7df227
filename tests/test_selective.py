"""Selective Execution end to end: real pipelines of ``@step`` functions on a temporary store.

The pipeline (see ``selective_lib.build``) is

    Preprocess -> Train -> Evaluate -> Check (if score >= Threshold: Register, else: Fail)

with a Float hyperparameter ``Lr`` (score = 6 * Lr) and a Float ``Threshold``. Every step counts
its invocations in a file of the work directory, so a test can prove a step was NOT re-run, and
reads a mode file there ("bad" makes it fail, "slow" makes it sleep).
"""

import os
import re
import time

import pytest
import selective_lib as lib
from sagepipe.exceptions import ReferenceExecutionError, ResourceNotFoundError, SelectionError
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


def run(pipeline, parameters=None, selected=None, ref=None, latest=True):
    cfg = None
    if selected is not None:
        cfg = SelectiveExecutionConfig(
            selected_steps=selected, source_pipeline_execution_arn=ref, reference_latest_execution=latest
        )
    execution = pipeline.start(parameters=parameters, selective_execution_config=cfg)
    execution.wait()
    return execution


def steps_of(execution):
    return {s["StepName"]: s for s in execution.list_steps()}


def status(execution):
    return execution.describe()["PipelineExecutionStatus"]


def n_executions(pipeline):
    try:
        return len(pipeline.list_executions()["PipelineExecutionSummaries"])
    except ResourceNotFoundError:  # not created yet
        return 0


def counts(wd):
    return {name: lib.count(wd, name) for name in lib.STEPS if lib.count(wd, name)}


def expect_rejected(pipeline, cls, kind, selected, ref=None, latest=True, parameters=None):
    """Start must raise ``cls`` with a problem of type ``kind``, and create no execution."""
    before = n_executions(pipeline)
    cfg = SelectiveExecutionConfig(selected, reference_latest_execution=latest, source_pipeline_execution_arn=ref)
    with pytest.raises(cls) as info:
        pipeline.start(parameters=parameters, selective_execution_config=cfg)
    assert type(info.value) is cls
    assert isinstance(info.value, ValueError)
    kinds = [e["type"] for e in info.value.errors()]
    assert kind in kinds, info.value.errors()
    assert n_executions(pipeline) == before, "a rejected selective start must not create an execution"
    # plan() runs the same checks
    with pytest.raises(cls):
        pipeline.plan(selective_execution_config=cfg)
    return info.value, next(e for e in info.value.errors() if e["type"] == kind)


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


# ---------------------------------------------------------------------------------------------
# SelectiveExecutionConfig and how start() resolves the reference


def test_to_request_explicit_arn_and_none():
    arn = "arn:aws:sagemaker:local:000000000000:pipeline/p/execution/abc"
    cfg = SelectiveExecutionConfig(["Train", "Evaluate"], source_pipeline_execution_arn=arn)
    assert cfg.to_request() == {
        "SourcePipelineExecutionArn": arn,
        "SelectedSteps": [{"StepName": "Train"}, {"StepName": "Evaluate"}],
    }
    assert cfg.reference_latest_execution is True
    none = SelectiveExecutionConfig(["Train"])
    assert none.to_request() == {"SelectedSteps": [{"StepName": "Train"}]}
    no_latest = SelectiveExecutionConfig(["Train"], reference_latest_execution=False)
    assert no_latest.to_request() == {"SelectedSteps": [{"StepName": "Train"}]}  # client-side flag only


def test_start_writes_latest_execution_arn_back_into_config(pipeline, wd):
    run(pipeline)
    latest = run(pipeline, {"Lr": 2.0})
    cfg = SelectiveExecutionConfig(["Evaluate"])
    assert cfg.source_pipeline_execution_arn is None
    ex = pipeline.start(selective_execution_config=cfg)
    ex.wait()
    assert cfg.source_pipeline_execution_arn == latest.arn
    assert ex.describe()["SelectiveExecutionConfig"] == {
        "SourcePipelineExecutionArn": latest.arn,
        "SelectedSteps": [{"StepName": "Evaluate"}],
    }
    assert ex.result("Evaluate")["score"] == 12.0  # Train's output of the latest run (Lr=2)
    assert steps_of(ex)["Train"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": latest.arn}


def test_without_reference_only_root_steps_can_be_selected(pipeline, wd):
    # No execution yet: the latest execution is None, so roots run, dependents are rejected.
    cfg = SelectiveExecutionConfig(["Preprocess", "Train"])
    first = pipeline.start(parameters={"Lr": 2.0}, selective_execution_config=cfg)
    first.wait()
    assert cfg.source_pipeline_execution_arn is None
    assert status(first) == "Succeeded"
    assert "SourcePipelineExecutionArn" not in first.describe()["SelectiveExecutionConfig"]
    assert set(steps_of(first)) == {"Preprocess", "Train"}
    assert first.result("Train")["w"] == 12.0

    # reference_latest_execution=False ignores the earlier execution entirely.
    cfg = SelectiveExecutionConfig(["Preprocess", "Train"], reference_latest_execution=False)
    second = pipeline.start(selective_execution_config=cfg)
    second.wait()
    assert cfg.source_pipeline_execution_arn is None
    assert status(second) == "Succeeded"
    assert all("SelectiveExecutionResult" not in s for s in second.list_steps())
    assert counts(wd) == {"Preprocess": 2, "Train": 2}

    err, problem = expect_rejected(pipeline, ReferenceExecutionError, "reference_required", ["Train"], latest=False)
    assert "Invalid SourcePipelineExecutionArn: null. The selected steps [Train] have dependencies on [Preprocess]" in (
        str(err)
    )
    assert problem["loc"] == ("SourcePipelineExecutionArn",)
    err, _ = expect_rejected(
        pipeline, ReferenceExecutionError, "reference_required", ["Evaluate", "Check"], latest=False
    )
    wanted = r"The selected steps \[Evaluate\] have dependencies on \[(Preprocess, Train|Train, Preprocess)\]"
    assert re.search(wanted, str(err)), str(err)


# ---------------------------------------------------------------------------------------------
# The four use cases of the announcement


def test_use_case_1_rerun_train_with_new_hyperparameter(pipeline, wd):
    ref = run(pipeline, {"Lr": 1.0})
    assert status(ref) == "Succeeded"
    ref_steps = steps_of(ref)
    ex = run(pipeline, {"Lr": 2.0}, selected=["Train"], ref=ref.arn)
    assert status(ex) == "Succeeded"
    st = steps_of(ex)
    assert set(st) == {"Preprocess", "Train"}  # Evaluate, Check, Register are downstream: not listed
    pre = st["Preprocess"]
    assert pre["StepStatus"] == "Succeeded"
    assert pre["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert pre["Metadata"] == ref_steps["Preprocess"]["Metadata"]
    assert "SelectiveExecutionResult" not in st["Train"]
    assert st["Train"]["Metadata"] != ref_steps["Train"]["Metadata"]  # a new job
    train = ex.result("Train")
    assert train["w"] == 12.0 and train["rate"] == 2.0
    assert train["token"] == ref.result("Preprocess")["token"]
    assert ex.result("Preprocess") == ref.result("Preprocess")
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 1, "Register": 1}
    assert ex.describe()["SelectiveExecutionConfig"] == {
        "SourcePipelineExecutionArn": ref.arn,
        "SelectedSteps": [{"StepName": "Train"}],
    }


def test_use_case_2_rerun_train_and_evaluate_with_built_parameters(pipeline, wd):
    ref = run(pipeline, {"Lr": 1.0, "Threshold": 4.0})
    token = ref.result("Preprocess")["token"]
    params = pipeline.build_parameters_from_execution(ref.arn, {"Lr": 3.0})
    assert params == {"Lr": 3.0, "Threshold": "4.0"}
    ex = run(pipeline, params, selected=["Train", "Evaluate"], ref=ref.arn)
    assert status(ex) == "Succeeded"
    assert ex.result("Evaluate") == {"score": 18.0, "token": token, "rate": 3.0}
    assert ref.result("Evaluate")["score"] == 6.0
    st = steps_of(ex)
    assert set(st) == {"Preprocess", "Train", "Evaluate"}
    assert st["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert lib.count(wd, "Preprocess") == 1, "Preprocess must not run again"
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 2, "Register": 1}
    assert {p["Name"]: p["Value"] for p in ex.list_parameters()["PipelineParameters"]} == {
        "Lr": "3.0",
        "Threshold": "4.0",
    }


def test_reused_steps_are_never_run_again(pipeline, wd):
    ref = run(pipeline)
    ref_steps = steps_of(ref)
    ex = run(pipeline, selected=["Evaluate"], ref=ref.arn)
    assert status(ex) == "Succeeded"
    st = steps_of(ex)
    for name in ("Preprocess", "Train"):
        assert st[name]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}, name
        assert st[name]["Metadata"] == ref_steps[name]["Metadata"], name
    assert counts(wd) == {"Preprocess": 1, "Train": 1, "Evaluate": 2, "Register": 1}


def test_use_case_3_fix_a_failed_step_and_resume(pipeline, wd, session):
    lib.set_mode(wd, "Evaluate", "bad")
    failed = run(pipeline)
    assert status(failed) == "Failed"
    st = steps_of(failed)
    assert {k: v["StepStatus"] for k, v in st.items()} == {
        "Preprocess": "Succeeded",
        "Train": "Succeeded",
        "Evaluate": "Failed",
    }
    assert "flag file says bad" in st["Evaluate"]["FailureReason"]

    lib.set_mode(wd, "Evaluate", "ok")  # the fix
    only = run(pipeline, selected=["Evaluate"], ref=failed.arn)
    assert status(only) == "Succeeded"
    st = steps_of(only)
    assert set(st) == {"Preprocess", "Train", "Evaluate"}
    for name in ("Preprocess", "Train"):
        assert st[name]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": failed.arn}
    assert only.result("Evaluate")["score"] == 6.0
    assert counts(wd) == {"Preprocess": 1, "Train": 1, "Evaluate": 2}

    cfg = SelectiveExecutionConfig.from_failed_execution(failed.arn, session)
    assert cfg.selected_steps == ["Evaluate", "Check", "Register", "Fail"]
    assert cfg.source_pipeline_execution_arn == failed.arn
    resumed = pipeline.start(selective_execution_config=cfg)
    resumed.wait()
    assert status(resumed) == "Succeeded"
    st = steps_of(resumed)
    assert set(st) == {"Preprocess", "Train", "Evaluate", "Check", "Register"}
    assert st["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert resumed.result("Register") == "registered model with score 6.0"
    assert counts(wd) == {"Preprocess": 1, "Train": 1, "Evaluate": 3, "Register": 1}

    with pytest.raises(ValueError, match="every step succeeded"):
        SelectiveExecutionConfig.from_failed_execution(run(pipeline).arn, session)


def test_use_case_4_pipeline_coverage_of_the_fail_branch(pipeline, wd):
    ref = run(pipeline)
    assert steps_of(ref)["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    selected = ["Train", "Evaluate", "Check", "Fail"]
    plan = pipeline.plan(
        SelectiveExecutionConfig(selected, source_pipeline_execution_arn=ref.arn), parameters={"Threshold": 100.0}
    )
    assert plan.actions() == {
        "Preprocess": "reuse",
        "Train": "run",
        "Evaluate": "run",
        "Check": "run",
        "Register": "not-selected",
        "Fail": "condition-dependent",
    }
    ex = run(pipeline, {"Threshold": 100.0}, selected=selected, ref=ref.arn)
    desc = ex.describe()
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"] == "score too low: 6.0"
    st = steps_of(ex)
    assert "Register" not in st
    assert st["Check"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert st["Fail"]["StepStatus"] == "Failed"
    assert st["Fail"]["Metadata"] == {"Fail": {"ErrorMessage": "score too low: 6.0"}}
    assert st["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 2, "Register": 1}


# ---------------------------------------------------------------------------------------------
# Errors: each raises the right class, names the problem, and creates no execution


def test_selection_errors(pipeline):
    ref = run(pipeline)
    _, p = expect_rejected(pipeline, SelectionError, "empty_selection", [], ref=ref.arn)
    assert p["loc"] == ("SelectedSteps",)

    _, p = expect_rejected(pipeline, SelectionError, "unknown_step", ["Trian"], ref=ref.arn)
    assert "Trian" in p["msg"] and "did you mean" in p["msg"] and "Train" in p["msg"]
    assert p["loc"] == ("SelectedSteps", "0")

    _, p = expect_rejected(pipeline, SelectionError, "duplicate_selected_step", ["Train", "Evaluate", "Train"])
    assert p["loc"] == ("SelectedSteps", "2") and "Train" in p["msg"]

    err, p = expect_rejected(pipeline, SelectionError, "selection_not_path_closed", ["Train", "Check"], ref=ref.arn)
    assert "[Evaluate]" in p["msg"] and "Train -> Evaluate -> Check" in p["msg"]
    assert "Train -> Evaluate -> Check" in str(err)

    err, _ = expect_rejected(pipeline, SelectionError, "unknown_step", ["Trian", "Evaluate", "Evaluate"])
    assert [e["type"] for e in err.errors()] == ["unknown_step", "duplicate_selected_step"]  # all at once
    assert n_executions(pipeline) == 1


def test_reference_of_another_pipeline(pipeline, session, wd, tmp_path):
    other_wd = tmp_path / "other"
    other_wd.mkdir()
    other = lib.build(session, str(other_wd), name="other-pipeline")
    foreign = run(other)
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "reference_other_pipeline", ["Train"], ref=foreign.arn)
    assert "other-pipeline" in p["msg"] and "selective-demo" in p["msg"]


def test_reference_that_does_not_exist_or_was_deleted(pipeline, session, wd):
    crafted = "arn:aws:sagemaker:local:000000000000:pipeline/selective-demo/execution/doesnotexist1"
    run(pipeline)
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "reference_not_found", ["Train"], ref=crafted)
    assert crafted in p["msg"] and "does not exist" in p["msg"]

    doomed = lib.build(session, wd, name="doomed")
    gone = run(doomed)
    doomed.delete()
    run(doomed)  # the pipeline exists again, but without the deleted execution
    _, p = expect_rejected(doomed, ReferenceExecutionError, "reference_not_found", ["Train"], ref=gone.arn)
    assert gone.arn in p["msg"]


def test_reference_whose_needed_step_failed_or_never_ran(pipeline, wd):
    lib.set_mode(wd, "Train", "bad")
    failed = run(pipeline)
    assert status(failed) == "Failed"
    _, p = expect_rejected(
        pipeline, ReferenceExecutionError, "reference_step_not_succeeded", ["Evaluate"], ref=failed.arn
    )
    assert "'Train'" in p["msg"] and "[Evaluate]" in p["msg"] and "Failed" in p["msg"]
    err, p = expect_rejected(pipeline, ReferenceExecutionError, "reference_step_missing", ["Check"], ref=failed.arn)
    assert "'Evaluate'" in p["msg"] and "[Check]" in p["msg"]
    assert sorted(e["type"] for e in err.errors()) == ["reference_step_missing", "reference_step_not_succeeded"]


def test_branch_step_follows_the_reference_outcome(pipeline, wd):
    ref = run(pipeline)  # score 6 >= 5: the If branch (Register) was taken
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "branch_not_taken", ["Fail"], ref=ref.arn)
    assert "'Fail'" in p["msg"] and "'Check'" in p["msg"]

    # The branch that was taken can be re-run alone; Check is reused with its outcome.
    plan = pipeline.plan(SelectiveExecutionConfig(["Register"], source_pipeline_execution_arn=ref.arn))
    assert plan["Register"]["action"] == "run"
    assert "took the If branch in the reference" in plan["Register"]["reason"]
    ex = run(pipeline, selected=["Register"], ref=ref.arn)
    assert status(ex) == "Succeeded"
    st = steps_of(ex)
    assert set(st) == {"Preprocess", "Train", "Evaluate", "Check", "Register"}
    assert st["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert st["Check"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref.arn}
    assert counts(wd)["Register"] == 2


def reused_artifact_paths(pipeline, session, ref, step_name):
    plan = pipeline.plan(SelectiveExecutionConfig(["Train"], source_pipeline_execution_arn=ref.arn))
    entry = plan[step_name]
    assert entry["action"] == "reuse" and entry["artifacts"]
    for uri in entry["artifacts"]:
        # Small results are kept in the store's database; reading them as files (as job staging
        # and the local S3 service do) makes them the files these tests change.
        session.store.materialize(uri)
    return [str(session.store.uri_to_path(uri)) for uri in entry["artifacts"]]


def test_reused_artifact_deleted_after_the_reference_run(pipeline, session):
    ref = run(pipeline)
    paths = reused_artifact_paths(pipeline, session, ref, "Preprocess")
    assert all(os.path.isfile(p) for p in paths)
    os.remove(paths[0])
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "artifact_missing", ["Train"], ref=ref.arn)
    assert "Preprocess" in p["msg"] and p["loc"] == ("Steps", "Preprocess", "Artifacts")


def test_reused_artifact_modified_after_the_reference_run(pipeline, session):
    ref = run(pipeline)
    path = reused_artifact_paths(pipeline, session, ref, "Preprocess")[0]
    with open(path, "rb") as f:
        original = f.read()

    # Touched but unchanged: accepted (the content is hashed again and still matches).
    later = time.time() + 5
    os.utime(path, (later, later))
    ex = run(pipeline, selected=["Train"], ref=ref.arn)
    assert status(ex) == "Succeeded"

    # Same size, other content: rejected.
    with open(path, "wb") as f:
        f.write(bytes([original[0] ^ 0xFF]) + original[1:])
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "artifact_changed", ["Train"], ref=ref.arn)
    assert "Preprocess" in p["msg"] and "changed" in p["msg"]

    # Other size: rejected too.
    with open(path, "wb") as f:
        f.write(original + b"x")
    expect_rejected(pipeline, ReferenceExecutionError, "artifact_changed", ["Train"], ref=ref.arn)


# ---------------------------------------------------------------------------------------------
# References that are selective, failed or stopped


def test_reference_that_is_itself_a_selective_run(pipeline, wd):
    ref1 = run(pipeline, {"Lr": 1.0})
    token = ref1.result("Preprocess")["token"]
    ref2 = run(pipeline, {"Lr": 2.0}, selected=["Train", "Evaluate"], ref=ref1.arn)
    assert status(ref2) == "Succeeded"
    ref3 = run(pipeline, {"Lr": 9.0}, selected=["Evaluate"], ref=ref2.arn)
    assert status(ref3) == "Succeeded"
    # Evaluate read Train's result of ref2 (Lr=2), which read Preprocess of ref1.
    assert ref3.result("Evaluate") == {"score": 12.0, "token": token, "rate": 2.0}
    st = steps_of(ref3)
    assert set(st) == {"Preprocess", "Train", "Evaluate"}
    for name in ("Preprocess", "Train"):
        assert st[name]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": ref2.arn}
    assert st["Preprocess"]["Metadata"] == steps_of(ref1)["Preprocess"]["Metadata"]
    assert st["Train"]["Metadata"] == steps_of(ref2)["Train"]["Metadata"]
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 3, "Register": 1}
    plan = pipeline.plan(SelectiveExecutionConfig(["Evaluate"], source_pipeline_execution_arn=ref2.arn))
    assert plan["Preprocess"]["source_execution_arn"] == ref2.arn
    assert all(f"/{ref1.arn.rsplit('/', 1)[1]}/Preprocess/" in uri for uri in plan["Preprocess"]["artifacts"])
    assert all(f"/{ref2.arn.rsplit('/', 1)[1]}/Train/" in uri for uri in plan["Train"]["artifacts"])


def test_failed_reference_downstream_of_the_succeeded_part(pipeline, wd):
    lib.set_mode(wd, "Evaluate", "bad")
    failed = run(pipeline)
    assert status(failed) == "Failed"
    lib.set_mode(wd, "Evaluate", "ok")
    ex = run(pipeline, {"Threshold": 100.0}, selected=["Evaluate", "Check", "Register", "Fail"], ref=failed.arn)
    assert ex.describe()["FailureReason"] == "score too low: 6.0"
    assert steps_of(ex)["Train"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": failed.arn}
    assert counts(wd) == {"Preprocess": 1, "Train": 1, "Evaluate": 2}


def test_stopped_reference(pipeline, wd, session):
    lib.set_mode(wd, "Train", "slow")
    live = pipeline.start()
    deadline = time.time() + 30
    while steps_of(live).get("Train", {}).get("StepStatus") != "Executing":
        assert time.time() < deadline, "Train never started"
        time.sleep(0.05)
    # While it runs, the latest execution cannot be a reference.
    _, p = expect_rejected(pipeline, ReferenceExecutionError, "reference_not_finished", ["Train"])
    assert live.arn in p["msg"] and "Executing" in p["msg"]
    live.stop()
    live.wait()
    assert status(live) == "Stopped"
    assert {k: v["StepStatus"] for k, v in steps_of(live).items()} == {"Preprocess": "Succeeded", "Train": "Stopped"}

    _, p = expect_rejected(
        pipeline, ReferenceExecutionError, "reference_step_not_succeeded", ["Evaluate"], ref=live.arn
    )
    assert "'Train'" in p["msg"] and "Stopped" in p["msg"]

    lib.set_mode(wd, "Train", "ok")
    cfg = SelectiveExecutionConfig.from_failed_execution(live.arn, session)
    assert cfg.selected_steps == ["Train", "Evaluate", "Check", "Register", "Fail"]
    ex = run(pipeline, selected=["Train", "Evaluate"], ref=live.arn)
    assert status(ex) == "Succeeded"
    assert steps_of(ex)["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": live.arn}
    assert ex.result("Evaluate")["token"] == live.result("Preprocess")["token"]
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 1}


# ---------------------------------------------------------------------------------------------
# plan(), reuse by reference, build_parameters_from_execution


def test_plan_entries_and_printing(pipeline):
    full = pipeline.plan()
    branch = {"Register": "condition-dependent", "Fail": "condition-dependent"}
    assert full.actions() == {**dict.fromkeys(lib.STEPS, "run"), **branch}
    ref = run(pipeline)
    plan = pipeline.plan(selective_execution_config=SelectiveExecutionConfig(["Train", "Evaluate"]))
    assert plan.reference_arn == ref.arn
    assert plan.actions() == {
        "Preprocess": "reuse",
        "Train": "run",
        "Evaluate": "run",
        "Check": "not-selected",
        "Register": "not-selected",
        "Fail": "not-selected",
    }
    reuse = plan["Preprocess"]
    assert reuse["source_execution_arn"] == ref.arn
    assert reuse["artifacts"] and all(u.startswith("s3://") and "/Preprocess/" in u for u in reuse["artifacts"])
    assert "reference" in reuse["reason"]
    assert plan["Train"]["reason"] == "selected"
    assert "downstream" in plan["Check"]["reason"]
    assert "source_execution_arn" not in plan["Train"] and "artifacts" not in plan["Train"]
    text = str(plan)
    for name in lib.STEPS:
        assert name in text
    assert ref.arn in text
    for uri in reuse["artifacts"]:
        assert f"reuses {uri}" in text
    cond = pipeline.plan(SelectiveExecutionConfig(["Check", "Register", "Fail"], source_pipeline_execution_arn=ref.arn))
    assert cond.actions()["Register"] == cond.actions()["Fail"] == "condition-dependent"
    assert n_executions(pipeline) == 1, "plan() must not start anything"


def test_reuse_is_by_reference_not_by_copy(pipeline, wd, session):
    with open(os.path.join(wd, "Preprocess.size"), "w") as f:
        f.write(str(20 * 2**20))
    ref = run(pipeline)
    assert status(ref) == "Succeeded"
    s3 = os.path.join(str(session.store_root), "s3")
    before = du(s3)
    assert before > 20 * 2**20
    ex = run(pipeline, {"Lr": 2.0}, selected=["Train"], ref=ref.arn)
    assert status(ex) == "Succeeded"
    assert ex.result("Train")["token"] == ref.result("Preprocess")["token"]
    grown = du(s3) - before
    assert grown < 1 * 2**20, f"the store grew by {grown} bytes for a reused 20 MB artifact"
    assert len(ex.result("Preprocess")["blob"]) == 20 * 2**20


def test_build_parameters_from_execution(pipeline):
    ref = run(pipeline, {"Lr": 0.5})
    assert pipeline.build_parameters_from_execution(ref.arn) == {"Lr": "0.5", "Threshold": "5.0"}
    with pytest.raises(ValueError) as info:
        pipeline.build_parameters_from_execution(ref.arn, {"Lr": 1.0, "Nope": 3})
    msg = str(info.value)
    assert "The following parameter overrides provided: {'Nope'} are not present in the pipeline execution: " in msg
    assert msg.endswith(ref.arn)


def test_pipeline_by_name_only_runs_selectively(pipeline, session, wd):
    ref = run(pipeline)
    by_name = Pipeline(name="selective-demo", sagemaker_session=session)
    ex = by_name.start(
        parameters={"Lr": 2.0},
        selective_execution_config=SelectiveExecutionConfig(
            ["Train", "Evaluate"], source_pipeline_execution_arn=ref.arn
        ),
    )
    ex.wait()
    assert status(ex) == "Succeeded"
    assert ex.result("Evaluate")["score"] == 12.0
    assert counts(wd) == {"Preprocess": 1, "Train": 2, "Evaluate": 2, "Register": 1}
