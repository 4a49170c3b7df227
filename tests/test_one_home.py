"""Rules that used to live twice (in Python and in the Rust core) and now have one home each:
these tests pin each rule where it lives now (issue 16, "One home per rule")."""

import json
import re
from pathlib import Path

import pytest
import sagepipe
import store_lib
from sagepipe.client import ClientError
from sagepipe.exceptions import DefinitionError, ResourceNotFoundError
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionEquals
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline


def _pipeline_with_undeclared_parameter(session, name: str = "bad") -> Pipeline:
    """A condition on a parameter the pipeline does not declare: the definition builds, but the
    engine rejects it."""
    undeclared = ParameterString("Missing", default_value="x")
    cond = ConditionStep(
        name="Check",
        conditions=[ConditionEquals(left=undeclared, right="x")],
        if_steps=[FailStep(name="Stop", error_message="no")],
        else_steps=[],
    )
    return Pipeline(name=name, steps=[cond], sagemaker_session=session)


def _valid_pipeline(session, name: str = "bad") -> Pipeline:
    return Pipeline(name=name, steps=[FailStep(name="Stop", error_message="no")], sagemaker_session=session)


# ---- storing a pipeline validates it first, on every path ----


@pytest.mark.parametrize("method", ["create", "upsert"])
def test_pipeline_methods_reject_what_the_client_rejects_and_store_nothing(session, method):
    pipeline = _pipeline_with_undeclared_parameter(session)
    with pytest.raises(ClientError) as client_error:
        sagepipe.client(sagemaker_session=session).create_pipeline(
            PipelineName="bad", PipelineDefinition=pipeline.definition()
        )
    assert isinstance(client_error.value.__cause__, DefinitionError)
    with pytest.raises(DefinitionError, match="parameter 'Missing', which is not declared"):
        getattr(pipeline, method)()
    with pytest.raises(ResourceNotFoundError):
        session.store.load_pipeline("bad")


def test_update_with_an_invalid_definition_keeps_the_stored_version(session):
    _valid_pipeline(session).create()
    with pytest.raises(DefinitionError):
        _pipeline_with_undeclared_parameter(session).update()
    stored = json.loads(session.store.load_pipeline("bad"))
    assert stored["LatestVersion"] == 1
    assert json.loads(session.store.definition_text("bad"))["Steps"][0]["Type"] == "Fail"


def test_start_of_an_invalid_pipeline_stores_nothing(session):
    with pytest.raises(DefinitionError):
        _pipeline_with_undeclared_parameter(session).start()
    with pytest.raises(ResourceNotFoundError):
        session.store.load_pipeline("bad")


# ---- terminal statuses: the engine's ExecutionStatus, read by Python from _core ----


def test_terminal_statuses_are_the_engines():
    from sagepipe import _core, _gc, _progress, _responses, cli, client, display
    from sagepipe.workflow import _execution_handle

    assert set(_core.TERMINAL_STATUSES) == {"Succeeded", "Failed", "Stopped", "CompletedWithFailures"}
    for status in ("Succeeded", "Failed", "Stopped", "CompletedWithFailures", "Executing", "Stopping"):
        assert _responses.is_terminal(status) is (status in _core.TERMINAL_STATUSES)
    # No module keeps a list of its own: they all ask _responses.is_terminal (gc's plan is the
    # engine's, engine::gc, which asks ExecutionStatus::is_terminal).
    assert "is_terminal(" not in Path(_gc.__file__).read_text() and not re.search(
        r"\bin \(?\s*[\"']Succeeded", Path(_gc.__file__).read_text()
    )
    for module in (cli, client, display, _progress, _execution_handle):
        source = Path(module.__file__).read_text()
        assert "is_terminal(" in source, module.__name__
        assert not re.search(r"\bin \(?\s*[\"']Succeeded", source), module.__name__


def test_recorded_statuses_are_the_service_strings(in_process_session):
    execution = _valid_pipeline(in_process_session, "statuses").start()
    execution.wait()
    record = json.loads(in_process_session.store.load_execution(execution.arn))
    assert record["PipelineExecutionStatus"] == "Failed"  # a Fail step fails its execution
    assert record["PipelineExecutionStatus"] in sagepipe._core.TERMINAL_STATUSES
    assert [s["StepStatus"] for s in json.loads(in_process_session.store.load_steps(execution.arn))] == ["Failed"]


# ---- the experiment config: evaluated once by the engine, recorded, read by describe() ----


def test_the_experiment_config_is_recorded_at_start_and_described_from_the_record(in_process_session):
    from sagepipe.workflow.execution_variables import ExecutionVariables
    from sagepipe.workflow.pipeline_experiment_config import PipelineExperimentConfig

    config = PipelineExperimentConfig("Exp", ExecutionVariables.PIPELINE_EXECUTION_ID)
    pipeline = _valid_pipeline(in_process_session, "experiments")
    pipeline.pipeline_experiment_config = config
    execution = pipeline.start()
    execution.wait()
    execution_id = execution.arn.rsplit("/", 1)[1]
    record = json.loads(in_process_session.store.load_execution(execution.arn))
    assert record["PipelineExperimentConfig"] == {"ExperimentName": "Exp", "TrialName": execution_id}
    assert execution.describe()["PipelineExperimentConfig"] == record["PipelineExperimentConfig"]
    # The default config names the pipeline and the execution; none gives none.
    default = _valid_pipeline(in_process_session, "experiments2").start()
    default.wait()
    assert default.describe()["PipelineExperimentConfig"] == {
        "ExperimentName": "experiments2",
        "TrialName": default.arn.rsplit("/", 1)[1],
    }
    pipeline.pipeline_experiment_config = None
    none = pipeline.start()
    none.wait()
    assert "PipelineExperimentConfig" not in none.describe()


# ---- function steps: detected, flattened and their results located by the engine ----


def _function_pipeline(session, name: str = "functions") -> Pipeline:
    from sagepipe.workflow.function_step import step

    @step(name="Answer")
    def answer():
        return 42

    @step(name="Boom")
    def boom():
        raise KeyError("boom")

    cond = ConditionStep(
        name="Branch",
        conditions=[ConditionEquals(left=1, right=1)],
        if_steps=[answer(), boom()],
        else_steps=[],
    )
    return Pipeline(name=name, steps=[cond], sagemaker_session=session)


def test_a_function_step_in_a_condition_branch_is_found_and_its_result_read(in_process_session):
    execution = _function_pipeline(in_process_session).start()
    execution.wait()
    records = {r["StepName"]: r for r in json.loads(in_process_session.store.load_steps(execution.arn))}
    execution_id = execution.arn.rsplit("/", 1)[1]
    # The engine records where the results are (Python no longer recomputes the URI).
    answer = records["Answer"]
    assert execution_id in answer["FunctionResultsUri"]
    assert answer["FunctionResultsUri"] == answer["Properties"]["OutputDataConfig"]["S3OutputPath"]
    assert "FunctionResultsUri" not in records["Branch"]
    assert execution.result("Answer") == 42
    with pytest.raises(KeyError, match="boom"):
        execution.result("Boom")
    with pytest.raises(ValueError, match="@step decorator"):
        execution.result("Branch")


def test_a_step_record_from_before_the_results_uri_was_recorded_still_gives_its_result(in_process_session):
    execution = _function_pipeline(in_process_session, "older").start()
    execution.wait()
    execution_id = execution.arn.rsplit("/", 1)[1]
    path = f"pipelines/older/executions/{execution_id}/steps/Answer.json"
    record = store_lib.read_json(in_process_session.store.root, path)
    del record["FunctionResultsUri"]
    store_lib.write_json(in_process_session.store.root, path, record)
    records = json.loads(in_process_session.store.load_steps(execution.arn))
    assert "FunctionResultsUri" not in next(r for r in records if r["StepName"] == "Answer")
    assert execution.result("Answer") == 42


def test_the_compiled_summary_says_which_steps_are_function_steps(in_process_session):
    pipeline = _function_pipeline(in_process_session)
    summary = json.loads(sagepipe._core.compile_definition(pipeline.definition(), pipeline.name))
    assert {s["name"]: s["function"] for s in summary["steps"]} == {"Branch": False, "Answer": True, "Boom": True}


# ---- the ARN and step-name patterns: the engine's ----


def test_execution_arns_and_step_names_are_judged_by_the_engine():
    from sagepipe import _core

    arn = "arn:aws:sagemaker:local:000000000000:pipeline/p-1/execution/abcdef123456"
    assert _core.parse_execution_arn(arn) == ("p-1", "abcdef123456")
    assert _core.parse_execution_arn("arn:aws:sagemaker:local:000000000000:pipeline/p-1") is None
    assert _core.parse_execution_arn("not an arn") is None
    assert _core.parse_pipeline_arn("arn:aws:sagemaker:local:000000000000:pipeline/p-1") == "p-1"
    assert _core.parse_pipeline_arn(arn) is None
    assert _core.valid_step_name("Train_1-a")
    assert not _core.valid_step_name("a/b")
    assert not _core.valid_step_name("x" * 65)
    assert not _core.valid_step_name("")


def test_the_client_reads_pipeline_arns_as_the_engine_does(session):
    sm = sagepipe.client(sagemaker_session=session)
    arn = _valid_pipeline(session, "tagged").create()["PipelineArn"]
    assert sm.describe_pipeline(PipelineName=arn)["PipelineName"] == "tagged"
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError, match="not a pipeline ARN"):
        sm.add_tags(ResourceArn=arn + "/execution/abcdef123456", Tags=[])


# ---- the code sidecar suffix: the store's ----


def test_the_code_sidecar_suffix_is_the_stores():
    from sagepipe import _code_hash, _core, _s3_objects

    assert _code_hash.SIDECAR_SUFFIX == _core.CODE_SIDECAR_SUFFIX == ".sagepipe-code.json"
    assert _s3_objects.is_hidden("train.py" + _core.CODE_SIDECAR_SUFFIX)


# ---- "reference = latest execution": one function ----


def test_the_reference_of_a_selective_run_is_the_latest_execution_unless_named(in_process_session):
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    pipeline = _valid_pipeline(in_process_session, "refs")
    pipeline.create()
    assert pipeline._reference_execution_arn(SelectiveExecutionConfig(selected_steps=["Stop"])) is None
    first = pipeline.start()
    first.wait()
    second = pipeline.start()
    second.wait()
    latest = SelectiveExecutionConfig(selected_steps=["Stop"])
    assert pipeline._reference_execution_arn(latest) == second.arn
    named = SelectiveExecutionConfig(selected_steps=["Stop"], source_pipeline_execution_arn=first.arn)
    assert pipeline._reference_execution_arn(named) == first.arn
    unreferenced = SelectiveExecutionConfig(selected_steps=["Stop"], reference_latest_execution=False)
    assert pipeline._reference_execution_arn(unreferenced) is None
    assert pipeline.plan(latest).reference_arn == second.arn


# ---- workflow/_execution.py split by job: the names other modules import from it stay ----


def test_the_execution_module_keeps_the_names_imported_from_it():
    from sagepipe.workflow import _execution, _execution_handle, _interrupts, _pipeline_service, _store_access
    from sagepipe.workflow.pipeline import Pipeline as PipelineClass

    assert _execution._PipelineExecution is _execution_handle._PipelineExecution
    assert _execution._PipelineService is _pipeline_service._PipelineService
    assert issubclass(PipelineClass, _pipeline_service._PipelineService)
    assert _execution._default_session is _store_access._default_session
    assert _execution._store_of is _store_access._store_of
    # Module state is shared, not copied: a Ctrl-C recorded by _interrupts shows through _execution.
    assert _execution._interrupted is _interrupts._interrupted
    assert _execution.settle_interrupted is _interrupts.settle_interrupted
    assert _execution.report_interrupt is _interrupts.report_interrupt
