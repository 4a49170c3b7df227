"""The pytest plugin, used by a sample test suite run with pytester in a subprocess."""

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

PIPELINE_LIB = '''
"""A model pipeline under test: Train, then a quality gate with a FailStep."""
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.parameters import ParameterFloat
from sagepipe.workflow.pipeline import Pipeline


@step(name="Prepare")
def prepare():
    return [1.0, 2.0, 3.0]


@step(name="Train")
def train(rows, scale):
    return {"score": sum(rows) * scale}


@step(name="Publish")
def publish(model):
    return f"published {model['score']}"


def build():
    scale = ParameterFloat("Scale", default_value=1.0)
    model = train(prepare(), scale)
    gate = ConditionStep(
        name="Gate",
        conditions=[ConditionGreaterThanOrEqualTo(left=model["score"], right=5)],
        if_steps=[publish(model)],
        else_steps=[FailStep(name="TooLow", error_message=Join(on=" ", values=["score", model["score"]]))],
    )
    return Pipeline(name="model", parameters=[scale], steps=[gate])
'''

SAMPLE_SUITE = """
import os

import pytest
from pipeline_lib import build

from sagepipe.testing import assert_execution_status, assert_step_failed, assert_step_succeeded, assert_steps
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

SEEN = {}


def test_if_branch(run_pipeline):
    execution = run_pipeline(build(), Scale=2.0)
    assert_execution_status(execution, "Succeeded")
    assert_steps(execution, ran=["Prepare", "Train", "Gate", "Publish"], skipped=["TooLow"])
    assert_step_succeeded(execution, "Publish")
    assert execution.result("Publish") == "published 12.0"


def test_else_branch_hits_the_fail_step(run_pipeline):
    execution = run_pipeline(build(), Scale=0.5)
    assert_execution_status(execution, "Failed")
    assert_step_failed(execution, "TooLow", reason_contains="score 3.0")
    assert_steps(execution, skipped=["Publish"])


def test_selective_rerun_reuses_prepare(run_pipeline, sagepipe_client):
    first = run_pipeline(build(), Scale=0.5)
    config = SelectiveExecutionConfig(["Train", "Gate", "Publish"], source_pipeline_execution_arn=first.arn)
    again = run_pipeline(build(), selective_execution_config=config, Scale=3.0)
    assert_steps(again, reused=["Prepare"], ran=["Train", "Gate", "Publish"], skipped=["TooLow"])
    arns = [e["PipelineExecutionArn"] for e in
            sagepipe_client.list_pipeline_executions(PipelineName="model")["PipelineExecutionSummaries"]]
    assert arns == [again.arn, first.arn]


def test_each_test_has_its_own_store(sagepipe_store, sagepipe_session):
    assert os.environ["SAGEPIPE_STORE"] == str(sagepipe_store)
    assert sagepipe_session.store_root == sagepipe_store
    SEEN.setdefault("stores", set()).add(str(sagepipe_store))


def test_no_runs_leak_between_tests(sagepipe_client, sagepipe_store):
    assert sagepipe_client.list_pipelines()["PipelineSummaries"] == []
    SEEN["stores"].add(str(sagepipe_store))
    assert len(SEEN["stores"]) == 2


def test_a_failing_assertion_explains_itself(run_pipeline):
    execution = run_pipeline(build(), Scale=2.0)
    assert_steps(execution, skipped=["Publish"])
"""


def _plugin_args():
    """Load the plugin by its entry point when installed (as users get it), else by name."""
    names = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")}
    return [] if "sagepipe" in names else ["-p", "sagepipe.pytest_plugin"]


def test_plugin_is_registered_as_a_pytest11_entry_point():
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    if "sagepipe" not in eps:
        pytest.skip("sagepipe is installed without its entry points; reinstall with `pip install -e .`")
    assert eps["sagepipe"] == "sagepipe.pytest_plugin"


def test_sample_suite_runs_on_isolated_stores(pytester):
    pytester.makepyfile(pipeline_lib=PIPELINE_LIB, test_sample=SAMPLE_SUITE)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-p", "no:cacheprovider", "-q", timeout=600)
    result.assert_outcomes(passed=5, failed=1)
    output = result.stdout.str()
    assert "AssertionError: skipped: expected ['Publish'], got ['TooLow']" in output
    assert "(Succeeded): ran=['Prepare', 'Train', 'Gate', 'Publish']" in output
    assert not (pytester.path / ".sagepipe").exists()  # nothing written into the working tree


def test_isolation_can_be_turned_off(pytester, monkeypatch):
    monkeypatch.setenv("SAGEPIPE_STORE", "/tmp/ambient-store")
    pytester.makeini("[pytest]\nsagepipe_isolated_store = false\n")
    pytester.makepyfile(
        test_shared="""
import os

def test_ambient_store():
    assert os.environ["SAGEPIPE_STORE"] == "/tmp/ambient-store"
"""
    )
    result = pytester.runpytest_subprocess(*_plugin_args(), "-q")
    result.assert_outcomes(passed=1)
