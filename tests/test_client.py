"""``sagepipe.client()``: the boto3-shaped SageMaker client over the store.

Shapes are checked against the field lists of botocore's ``service-2.json`` (reference §6).
"""

import random
import re
import time
from datetime import datetime, timedelta, timezone

import botocore.exceptions
import pytest
import sagepipe
import selective_lib
import store_lib
from sagepipe.client import ClientError
from sagepipe.workflow.pipeline import PipelineExecution
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

EXECUTION_ARN = re.compile(r"^arn:aws:sagemaker:local:000000000000:pipeline/selective-demo/execution/[a-z0-9]{12}$")

DESCRIBE_EXECUTION_FIELDS = {
    "PipelineArn", "PipelineExecutionArn", "PipelineExecutionDisplayName", "PipelineExecutionStatus",
    "PipelineExecutionDescription", "PipelineExperimentConfig", "FailureReason", "CreationTime",
    "LastModifiedTime", "CreatedBy", "LastModifiedBy", "ParallelismConfiguration", "SelectiveExecutionConfig",
    "PipelineVersionId", "MLflowConfig", "PipelineVersionAliases", "RoleArn", "ResponseMetadata",
}  # fmt: skip
EXECUTION_SUMMARY_FIELDS = {
    "PipelineExecutionArn", "StartTime", "PipelineExecutionStatus", "PipelineExecutionDescription",
    "PipelineExecutionDisplayName", "PipelineExecutionFailureReason", "PipelineVersionAliases",
}  # fmt: skip
STEP_FIELDS = {
    "StepName", "StepDisplayName", "StepDescription", "StartTime", "EndTime", "StepStatus", "CacheHitResult",
    "FailureReason", "AttemptCount", "SelectiveExecutionResult", "IterationContext", "Metadata",
}  # fmt: skip
DESCRIBE_PIPELINE_FIELDS = {
    "PipelineArn", "PipelineName", "PipelineDisplayName", "PipelineDefinition", "PipelineDescription", "RoleArn",
    "PipelineStatus", "CreationTime", "LastModifiedTime", "LastRunTime", "CreatedBy", "LastModifiedBy",
    "ParallelismConfiguration", "PipelineVersionDisplayName", "PipelineVersionDescription", "PipelineVersionAliases",
    "PipelineVersionId", "ResponseMetadata",
}  # fmt: skip
PIPELINE_SUMMARY_FIELDS = {
    "PipelineArn", "PipelineName", "PipelineDisplayName", "PipelineDescription", "RoleArn", "CreationTime",
    "LastModifiedTime", "LastExecutionTime",
}  # fmt: skip
EXECUTION_STATUSES = {"Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures"}
STEP_STATUSES = {"Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"}


@pytest.fixture
def pipeline(session, tmp_path):
    p = selective_lib.build(session, tmp_path)
    p.upsert(role_arn="arn:aws:iam::000000000000:role/test")
    return p


@pytest.fixture
def sm(session):
    return sagepipe.client(sagemaker_session=session)


def run(sm, session, **request):
    arn = sm.start_pipeline_execution(PipelineName="selective-demo", **request)["PipelineExecutionArn"]
    PipelineExecution(arn, session).wait()
    return arn


def announcement_listing(sagemaker_client, pipeline_name):
    """The listing code of the Selective Execution launch post, as written for boto3."""
    executions = sagemaker_client.list_pipeline_executions(
        PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending"
    )["PipelineExecutionSummaries"]
    succeeded = [e for e in executions if e["PipelineExecutionStatus"] == "Succeeded"]
    latest_arn = succeeded[0]["PipelineExecutionArn"]
    steps = sagemaker_client.list_pipeline_execution_steps(PipelineExecutionArn=latest_arn)["PipelineExecutionSteps"]
    step_names = [s["StepName"] for s in steps]
    parameters = sagemaker_client.list_pipeline_parameters_for_execution(PipelineExecutionArn=latest_arn)[
        "PipelineParameters"
    ]
    return latest_arn, step_names, {p["Name"]: p["Value"] for p in parameters}


def test_client_is_a_callable_module():
    import sagepipe.client as module

    assert sagepipe.client is module
    assert isinstance(sagepipe.client(store="unused-store-dir"), module.LocalSageMakerClient)
    with pytest.raises(ValueError, match="only the 'sagemaker' client"):
        sagepipe.client("s3")


def test_start_describe_shapes(pipeline, sm, session):
    arn = run(
        sm,
        session,
        PipelineParameters=[{"Name": "Lr", "Value": "2"}],
        PipelineExecutionDisplayName="first-run",
        PipelineExecutionDescription="from the client",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 3},
    )
    assert EXECUTION_ARN.match(arn)
    desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert set(desc) <= DESCRIBE_EXECUTION_FIELDS
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    assert desc["PipelineExecutionDisplayName"] == "first-run"
    assert desc["PipelineExecutionDescription"] == "from the client"
    assert desc["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 3}
    assert desc["PipelineArn"] == "arn:aws:sagemaker:local:000000000000:pipeline/selective-demo"
    assert isinstance(desc["CreationTime"], datetime) and desc["CreationTime"].tzinfo is not None
    assert desc["LastModifiedTime"] >= desc["CreationTime"]
    assert desc["ResponseMetadata"]["HTTPStatusCode"] == 200

    params = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert params["PipelineParameters"] == [{"Name": "Lr", "Value": "2.0"}, {"Name": "Threshold", "Value": "5.0"}]

    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["Register", "Check", "Evaluate", "Train", "Preprocess"]
    for s in steps:
        assert set(s) <= STEP_FIELDS, s
        assert s["StepStatus"] in STEP_STATUSES
        assert isinstance(s["StartTime"], datetime) and isinstance(s["EndTime"], datetime)
        assert isinstance(s["AttemptCount"], int)
    assert steps[1]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert set(steps[0]["Metadata"]) == {"TrainingJob"}
    ascending = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    assert [s["StepName"] for s in ascending["PipelineExecutionSteps"]] == [s["StepName"] for s in reversed(steps)]

    described = sm.describe_pipeline(PipelineName="selective-demo")
    assert set(described) <= DESCRIBE_PIPELINE_FIELDS
    assert described["RoleArn"] == "arn:aws:iam::000000000000:role/test"
    assert isinstance(described["LastRunTime"], datetime)
    assert sm.describe_pipeline(PipelineName=desc["PipelineArn"])["PipelineName"] == "selective-demo"
    definition = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    assert definition["PipelineDefinition"] == pipeline.definition()
    assert isinstance(definition["CreationTime"], datetime)

    summaries = sm.list_pipelines()["PipelineSummaries"]
    assert [p["PipelineName"] for p in summaries] == ["selective-demo"]
    assert set(summaries[0]) <= PIPELINE_SUMMARY_FIELDS
    assert isinstance(summaries[0]["LastExecutionTime"], datetime)
    assert sm.list_pipelines(PipelineNamePrefix="other")["PipelineSummaries"] == []


def test_listing_sorts_and_paginates(pipeline, sm, session):
    arns = [run(sm, session, PipelineParameters=[{"Name": "Lr", "Value": str(i)}]) for i in (1, 2, 3)]
    newest_first = sm.list_pipeline_executions(PipelineName="selective-demo")["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in newest_first] == arns[::-1]
    for e in newest_first:
        assert set(e) <= EXECUTION_SUMMARY_FIELDS
        assert e["PipelineExecutionStatus"] in EXECUTION_STATUSES
        assert isinstance(e["StartTime"], datetime)
    oldest = sm.list_pipeline_executions(PipelineName="selective-demo", SortOrder="Ascending", MaxResults=1)
    assert [e["PipelineExecutionArn"] for e in oldest["PipelineExecutionSummaries"]] == arns[:1]
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = sm.list_pipeline_executions(PipelineName="selective-demo", MaxResults=2, **kwargs)
        seen += [e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == arns[::-1]
    by_arn = sm.list_pipeline_executions(PipelineName="selective-demo", SortBy="PipelineExecutionArn")
    assert [e["PipelineExecutionArn"] for e in by_arn["PipelineExecutionSummaries"]] == sorted(arns, reverse=True)
    first_time = newest_first[-1]["StartTime"]
    after = sm.list_pipeline_executions(PipelineName="selective-demo", CreatedAfter=first_time)
    assert len(after["PipelineExecutionSummaries"]) == 2
    # Regression: a naive datetime (UTC, as botocore reads it) raised TypeError against aware times.
    naive = first_time.astimezone(timezone.utc).replace(tzinfo=None)
    after_naive = sm.list_pipeline_executions(PipelineName="selective-demo", CreatedAfter=naive)
    assert after_naive["PipelineExecutionSummaries"] == after["PipelineExecutionSummaries"]
    future = datetime.now(timezone.utc) + timedelta(days=1)
    assert (
        sm.list_pipeline_executions(PipelineName="selective-demo", CreatedAfter=future)["PipelineExecutionSummaries"]
        == []
    )
    pages = list(
        sm.get_paginator("list_pipeline_executions").paginate(
            PipelineName="selective-demo", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["PipelineExecutionSummaries"]) for p in pages] == [2, 1]
    assert sm.can_paginate("list_pipeline_execution_steps")


def test_listing_pages_by_position_not_by_count(pipeline, sm, session):
    """A page starts after the last execution of the previous one (issue 17): an execution started
    between two pages neither repeats nor hides one, the last full page has no NextToken, and
    CreatedAfter/CreatedBefore are strict to the microsecond."""
    arns = [run(sm, session, PipelineParameters=[{"Name": "Lr", "Value": str(i)}]) for i in (1, 2, 3, 4)]
    first = sm.list_pipeline_executions(PipelineName="selective-demo", MaxResults=2)
    assert [e["PipelineExecutionArn"] for e in first["PipelineExecutionSummaries"]] == arns[:1:-1]
    newer = run(sm, session)  # starts between the two pages
    second = sm.list_pipeline_executions(PipelineName="selective-demo", MaxResults=2, NextToken=first["NextToken"])
    assert [e["PipelineExecutionArn"] for e in second["PipelineExecutionSummaries"]] == arns[1::-1]
    assert "NextToken" not in second, "the last page, exactly full, says there is no more"
    ascending = sm.list_pipeline_executions(PipelineName="selective-demo", SortOrder="Ascending", MaxResults=3)
    assert [e["PipelineExecutionArn"] for e in ascending["PipelineExecutionSummaries"]] == arns[:3]
    rest = sm.list_pipeline_executions(
        PipelineName="selective-demo", SortOrder="Ascending", MaxResults=3, NextToken=ascending["NextToken"]
    )
    assert [e["PipelineExecutionArn"] for e in rest["PipelineExecutionSummaries"]] == [arns[3], newer]
    listed = sm.list_pipeline_executions(PipelineName="selective-demo")["PipelineExecutionSummaries"]
    times = {e["PipelineExecutionArn"]: e["StartTime"] for e in listed}
    between = sm.list_pipeline_executions(
        PipelineName="selective-demo", CreatedAfter=times[arns[0]], CreatedBefore=times[arns[3]]
    )
    assert [e["PipelineExecutionArn"] for e in between["PipelineExecutionSummaries"]] == [arns[2], arns[1]]
    epoch = sm.list_pipeline_executions(PipelineName="selective-demo", CreatedAfter=times[arns[3]].timestamp())
    assert [e["PipelineExecutionArn"] for e in epoch["PipelineExecutionSummaries"]] == [newer]
    for token in ("3", "12:", "x" * 300, "1:ab/cd"):
        with pytest.raises(ClientError, match="Invalid NextToken"):
            sm.list_pipeline_executions(PipelineName="selective-demo", NextToken=token)
    assert pipeline._get_latest_execution_arn() == newer
    assert [e["PipelineExecutionArn"] for e in pipeline.list_executions()["PipelineExecutionSummaries"]] == [
        newer,
        *arns[::-1],
    ]


def test_listing_bounds_are_the_times_responses_show():
    """Regression: the store put an execution's creation time 1 µs off the StartTime responses
    show for about 1 time in 8 (it scaled the whole value by 1e6 where datetime scales the
    fraction), so CreatedAfter=<an execution's StartTime> could list that execution."""
    from sagepipe import _responses

    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(17)
    times = [1796561905.5328455, 1796561905.6413674, 5e-07, 1.5e-06, -1.5]
    times += [rng.uniform(1.7e9, 1.9e9) for _ in range(20000)]
    for t in times:
        shown = _responses.to_datetime(t)
        assert _responses.micros(t) == (shown - epoch) // timedelta(microseconds=1), t


def test_listing_pages_past_an_unreadable_record(pipeline, sm, session):
    """A damaged execution record inside a page is warned about and left out; paging goes on past
    it without losing a readable execution."""
    arns = [run(sm, session, PipelineParameters=[{"Name": "Lr", "Value": str(i)}]) for i in (1, 2, 3)]
    middle = arns[1].rsplit("/", 1)[1]
    store_lib.truncate_record(session.store.root, f"pipelines/selective-demo/executions/{middle}/execution.json")
    seen, token = [], None
    with pytest.warns(sagepipe.exceptions.StoreWarning, match=middle):
        while True:
            page = sm.list_pipeline_executions(
                PipelineName="selective-demo", MaxResults=1, **({"NextToken": token} if token else {})
            )
            seen += [e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"]]
            token = page.get("NextToken")
            if not token:
                break
    assert seen == [arns[2], arns[0]]


def test_client_request_token_is_idempotent(pipeline, sm, session):
    token = "0123456789abcdef0123456789abcdef-token"
    first = sm.start_pipeline_execution(
        PipelineName="selective-demo", ClientRequestToken=token, PipelineParameters=[{"Name": "Lr", "Value": "2"}]
    )["PipelineExecutionArn"]
    again = sm.start_pipeline_execution(
        PipelineName="selective-demo", ClientRequestToken=token, PipelineParameters=[{"Name": "Lr", "Value": "2.0"}]
    )["PipelineExecutionArn"]
    assert again == first
    with pytest.raises(ClientError) as err:
        sm.start_pipeline_execution(
            PipelineName="selective-demo", ClientRequestToken=token, PipelineParameters=[{"Name": "Lr", "Value": "3"}]
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "['Lr']" in err.value.response["Error"]["Message"]
    PipelineExecution(first, session).wait()
    executions = sm.list_pipeline_executions(PipelineName="selective-demo")["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in executions] == [first]
    other = run(sm, session)  # no token: boto3 fills in a fresh one, so this is a new execution
    assert other != first


def test_errors_are_botocore_client_errors(pipeline, sm):
    missing = "arn:aws:sagemaker:local:000000000000:pipeline/selective-demo/execution/abcdefabcdef"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.describe_pipeline_execution(PipelineExecutionArn=missing)
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    assert err.value.operation_name == "DescribePipelineExecution"
    assert isinstance(err.value, sm.exceptions.ResourceNotFound)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.list_pipeline_executions(PipelineName="no-such-pipeline")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.start_pipeline_execution(PipelineName="no-such-pipeline")
    name = {"PipelineName": "selective-demo"}
    select_unknown = {"SelectedSteps": [{"StepName": "Nope"}]}
    cases = [
        (sm.describe_pipeline_execution, {"PipelineExecutionArn": "not-an-arn"}),
        (sm.list_pipeline_executions, {**name, "MaxResults": 101}),
        (sm.list_pipeline_executions, {**name, "SortBy": "Name"}),
        (sm.list_pipeline_executions, {**name, "NextToken": "garbage"}),
        (sm.start_pipeline_execution, {**name, "PipelineParameters": [{"Name": "Lr"}]}),
        (sm.start_pipeline_execution, {**name, "PipelineParameters": [{"Name": "X", "Value": "1"}]}),
        (sm.start_pipeline_execution, {**name, "ClientRequestToken": "short"}),
        (sm.start_pipeline_execution, {**name, "SelectiveExecutionConfig": select_unknown}),
    ]
    for method, kwargs in cases:
        with pytest.raises(ClientError) as err:
            method(**kwargs)
        assert err.value.response["Error"]["Code"] == "ValidationException", (method.__name__, kwargs)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_announcement_listing_runs_with_only_the_client_changed(pipeline, sm, session, tmp_path):
    first = run(sm, session)
    selective_lib.set_mode(str(tmp_path), "Train", "bad")
    failed = run(sm, session)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=failed)["PipelineExecutionStatus"] == "Failed"
    selective_lib.set_mode(str(tmp_path), "Train", "ok")

    latest_arn, step_names, parameters = announcement_listing(sm, "selective-demo")
    assert latest_arn == first
    assert step_names == ["Register", "Check", "Evaluate", "Train", "Preprocess"]
    assert parameters == {"Lr": "1.0", "Threshold": "5.0"}

    # ... then the post starts a selective execution: once through the SDK, once through the client.
    config = SelectiveExecutionConfig(source_pipeline_execution_arn=latest_arn, selected_steps=["Train", "Evaluate"])
    sdk_run = pipeline.start(selective_execution_config=config, parameters={**parameters, "Lr": "3"})
    sdk_run.wait()
    client_run = run(
        sm,
        session,
        PipelineParameters=[{"Name": "Lr", "Value": "3"}],
        SelectiveExecutionConfig={
            "SourcePipelineExecutionArn": latest_arn,
            "SelectedSteps": [{"StepName": "Train"}, {"StepName": "Evaluate"}],
        },
    )
    for arn in (sdk_run.arn, client_run):
        desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        assert desc["PipelineExecutionStatus"] == "Succeeded"
        assert desc["SelectiveExecutionConfig"]["SourcePipelineExecutionArn"] == latest_arn
        steps = {s["StepName"]: s for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]}  # fmt: skip
        assert set(steps) == {"Preprocess", "Train", "Evaluate"}
        assert steps["Preprocess"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": latest_arn}
    assert selective_lib.count(str(tmp_path), "Preprocess") == 2  # the first run and the failed one only


def test_stop_pipeline_execution(pipeline, sm, session, tmp_path):
    selective_lib.set_mode(str(tmp_path), "Train", "slow")
    arn = sm.start_pipeline_execution(PipelineName="selective-demo")["PipelineExecutionArn"]
    execution = PipelineExecution(arn, session)
    for _ in range(200):
        if any(s["StepName"] == "Train" for s in execution.list_steps()):
            break
        time.sleep(0.05)
    assert sm.stop_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    execution.wait()
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Stopped"
    with pytest.raises(sm.exceptions.ValidationException, match="already Stopped"):
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_create_update_delete_from_definition_json(pipeline, sm, session):
    definition = pipeline.definition()
    created = sm.create_pipeline(PipelineName="copy", PipelineDefinition=definition, RoleArn="arn:role")
    assert created["PipelineArn"] == "arn:aws:sagemaker:local:000000000000:pipeline/copy"
    with pytest.raises(ClientError) as err:
        sm.create_pipeline(PipelineName="copy", PipelineDefinition=definition, RoleArn="arn:role")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    updated = sm.update_pipeline(PipelineName="copy", PipelineDescription="same definition")
    assert updated["PipelineVersionId"] == 1
    assert sm.describe_pipeline(PipelineName="copy")["PipelineDescription"] == "same definition"
    arn = sm.start_pipeline_execution(PipelineName="copy")["PipelineExecutionArn"]
    PipelineExecution(arn, session).wait()
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    with pytest.raises(ClientError) as err:
        sm.create_pipeline(PipelineName="broken", PipelineDefinition='{"Version": "2020-12-01", "Steps": 3}')
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert sm.delete_pipeline(PipelineName="copy")["PipelineArn"] == created["PipelineArn"]
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline(PipelineName="copy")
