"""Rules that used to live twice (in Python and in the Rust core) and now have one home each:
these tests pin each rule where it lives now (issue 16, "One home per rule")."""

import json

import pytest
import sagepipe
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
