"""``start()`` and ``plan()`` hand the engine the definition they have just stored, and the
engine shares one compilation between ``compile_definition`` and them: what runs and what is
planned is still exactly the stored version, and a changed definition is never answered with
an earlier compilation."""

import json

from sagepipe import _core
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig


def double(x):
    return 2 * x


def add(a, b):
    return a + b


def pipeline(session, second: bool) -> Pipeline:
    first = step(name="first")(double)(1)
    steps = [step(name="second")(add)(first, 1)] if second else [first]
    return Pipeline(name="once", steps=steps, sagemaker_session=session)


def test_start_runs_and_records_the_version_it_stored(in_process_session):
    small = pipeline(in_process_session, second=False)
    text = small.definition()
    _core.compile_definition(text, "once")  # the compilation start() then shares
    execution = small.start()
    execution.wait()
    store = in_process_session.store
    version = json.loads(store.load_execution(execution.arn))["PipelineVersionId"]
    assert store.execution_definition(execution.arn) == store.definition_text("once", version) == text
    assert [s["StepName"] for s in execution.list_steps()] == ["first"]

    # A changed definition (compiled last under the same name) runs as the new version.
    bigger = pipeline(in_process_session, second=True)
    _core.compile_definition(bigger.definition(), "once")
    execution = bigger.start()
    execution.wait()
    assert json.loads(store.load_execution(execution.arn))["PipelineVersionId"] == version + 1
    assert sorted(s["StepName"] for s in execution.list_steps()) == ["first", "second"]
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"

    # An explicit older version runs that version's text, not the one just stored.
    older = bigger.start(pipeline_version_id=version)
    older.wait()
    assert store.execution_definition(older.arn) == text
    assert [s["StepName"] for s in older.list_steps()] == ["first"]


def test_plan_plans_the_definition_as_it_is_now(in_process_session):
    small = pipeline(in_process_session, second=False)
    reference = small.start()
    reference.wait()
    assert small.plan().actions() == {"first": "run"}

    bigger = pipeline(in_process_session, second=True)
    plan = bigger.plan(
        selective_execution_config=SelectiveExecutionConfig(
            source_pipeline_execution_arn=reference.arn, selected_steps=["second"]
        )
    )
    assert plan.actions() == {"first": "reuse", "second": "run"}
    assert plan.definition == bigger.definition()
    # The plan's definition is the stored latest version.
    assert in_process_session.store.definition_text("once") == plan.definition
