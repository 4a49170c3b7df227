"""Steps that run on AWS-side services (checks, AutoML, notebook jobs, endpoints, ...).

They build the same definition as the SageMaker Python SDK v2 (the expected JSON below was
observed from SDK 2.257 under a PipelineSession). Locally they cannot run: a pipeline holding
one fails before any step runs, naming every such step, unless the step is not selected or a
handler is registered for its type.
"""

import json

import aws_steps_lib as lib
import pytest
from sagepipe import local_runners
from sagepipe.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig, SHAPConfig
from sagepipe.exceptions import UnsupportedStepError
from sagepipe.model_monitor import DatasetFormat
from sagepipe.workflow.check_job_config import CheckJobConfig
from sagepipe.workflow.clarify_check_step import (
    ClarifyCheckStep,
    DataBiasCheckConfig,
    ModelBiasCheckConfig,
    ModelExplainabilityCheckConfig,
)
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.quality_check_step import (
    DataQualityCheckConfig,
    ModelQualityCheckConfig,
    QualityCheckConfig,
    QualityCheckStep,
)
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig
from sagepipe.workflow.steps import CacheConfig

ROLE = "arn:aws:iam::111111111111:role/CheckRole"
MONITOR_IMAGE = "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY_IMAGE = "306415355426.dkr.ecr.us-west-2.amazonaws.com/sagemaker-clarify-processing:1.0"


def s3_input(name, uri, local_path):
    return {
        "AppManaged": False,
        "InputName": name,
        "S3Input": {
            "LocalPath": local_path,
            "S3CompressionType": "None",
            "S3DataDistributionType": "FullyReplicated",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3Uri": uri,
        },
    }


def s3_output(name, uri, local_path):
    return {
        "AppManaged": False,
        "OutputName": name,
        "S3Output": {"LocalPath": local_path, "S3UploadMode": "EndOfJob", "S3Uri": uri},
    }


RESOURCES = {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 60}}

EXPECTED_DATA_QUALITY = {
    "Name": "DataQuality",
    "Type": "QualityCheck",
    "DependsOn": ["Prepare"],
    "Arguments": {
        "AppSpecification": {"ImageUri": MONITOR_IMAGE},
        "Environment": {
            "dataset_format": '{"csv": {"header": false, "output_columns_position": "START"}}',
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
        },
        "ProcessingInputs": [
            s3_input(
                "baseline_dataset_input",
                {"Get": "Parameters.BaselineData"},
                "/opt/ml/processing/input/baseline_dataset_input",
            )
        ],
        "ProcessingOutputConfig": {
            "Outputs": [s3_output("quality_check_output", "s3://my-bucket/dq/out", "/opt/ml/processing/output")]
        },
        "ProcessingResources": RESOURCES,
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    },
    "CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"},
    "CheckType": "DATA_QUALITY",
    "FailOnViolation": True,
    "ModelPackageGroupName": "MyGroup",
    "RegisterNewBaseline": True,
    "SkipCheck": False,
    "SuppliedBaselineConstraints": "s3://my-bucket/constraints.json",
    "SuppliedBaselineStatistics": "s3://my-bucket/stats.json",
}

EXPECTED_DATA_BIAS = {
    "Name": "DataBias",
    "Type": "ClarifyCheck",
    "DependsOn": ["Prepare"],
    "Arguments": {
        "AppSpecification": {"ImageUri": CLARIFY_IMAGE},
        "ProcessingInputs": [
            s3_input(
                "analysis_config",
                "s3://my-bucket/clarify/out/analysis_config.json",
                "/opt/ml/processing/input/config",
            ),
            s3_input("dataset", "s3://my-bucket/clarify/data.csv", "/opt/ml/processing/input/data"),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [s3_output("analysis_result", "s3://my-bucket/clarify/out", "/opt/ml/processing/output")]
        },
        "ProcessingResources": RESOURCES,
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    },
    "CheckType": "DATA_BIAS",
    "FailOnViolation": True,
    "ModelPackageGroupName": None,
    "RegisterNewBaseline": False,
    "SkipCheck": False,
    "SuppliedBaselineConstraints": None,
}

# The analysis config the Clarify job reads, as the SDK uploads it next to the results.
EXPECTED_BIAS_ANALYSIS_CONFIG = {
    "dataset_type": "text/csv",
    "headers": ["target", "age", "sex"],
    "label": "target",
    "label_values_or_threshold": [1],
    "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}],
    "group_variable": "age",
    "methods": {
        "pre_training_bias": {"methods": ["CI", "DPL"]},
        "report": {"name": "report", "title": "Analysis Report"},
    },
}


@pytest.fixture
def aws_session(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    return PipelineSession(store=tmp_path / "store", default_bucket="my-bucket")


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "wd"
    path.mkdir()
    return str(path)


def data_config():
    return DataConfig(
        s3_data_input_path="s3://my-bucket/clarify/data.csv",
        s3_output_path="s3://my-bucket/clarify/out",
        label="target",
        headers=["target", "age", "sex"],
        dataset_type="text/csv",
    )


def bias_config():
    return BiasConfig(label_values_or_threshold=[1], facet_name="sex", facet_values_or_threshold=[0], group_name="age")


def check_pipeline(session, workdir):
    """Prepare (a @step function) -> DataQuality (QualityCheck) and DataBias (ClarifyCheck)."""
    job = CheckJobConfig(role=ROLE, volume_size_in_gb=60, max_runtime_in_seconds=1800, sagemaker_session=session)
    baseline = ParameterString("BaselineData", default_value="s3://my-bucket/baseline/data.csv")
    prepared = lib.prepare(workdir)
    quality = QualityCheckStep(
        name="DataQuality",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=baseline,
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri="s3://my-bucket/dq/out",
        ),
        check_job_config=job,
        register_new_baseline=True,
        model_package_group_name="MyGroup",
        supplied_baseline_statistics="s3://my-bucket/stats.json",
        supplied_baseline_constraints="s3://my-bucket/constraints.json",
        cache_config=CacheConfig(enable_caching=True, expire_after="PT1H"),
        depends_on=[prepared],
    )
    bias = ClarifyCheckStep(
        name="DataBias",
        clarify_check_config=DataBiasCheckConfig(
            data_config=data_config(), data_bias_config=bias_config(), methods=["CI", "DPL"]
        ),
        check_job_config=job,
        depends_on=[prepared],
    )
    return Pipeline(name="checks", parameters=[baseline], steps=[quality, bias], sagemaker_session=session)


def steps_by_name(pipeline):
    return {s["Name"]: s for s in json.loads(pipeline.definition())["Steps"]}


def test_check_steps_build_the_sdk_definition(aws_session, workdir):
    pipeline = check_pipeline(aws_session, workdir)
    steps = steps_by_name(pipeline)
    assert steps["DataQuality"] == EXPECTED_DATA_QUALITY
    assert steps["DataBias"] == EXPECTED_DATA_BIAS
    # The analysis config is stored where the definition points, in the store's S3 area.
    stored = aws_session.read_s3_bytes("my-bucket", "clarify/out/analysis_config.json")
    assert json.loads(stored) == EXPECTED_BIAS_ANALYSIS_CONFIG


def test_check_step_properties_are_the_sdk_paths(aws_session, workdir):
    pipeline = check_pipeline(aws_session, workdir)
    quality, bias = pipeline.steps
    assert quality.properties.CalculatedBaselineStatistics.expr == {
        "Get": "Steps.DataQuality.CalculatedBaselineStatistics"
    }
    assert quality.properties.BaselineUsedForDriftCheckConstraints.expr == {
        "Get": "Steps.DataQuality.BaselineUsedForDriftCheckConstraints"
    }
    assert bias.properties.CalculatedBaselineConstraints.expr == {"Get": "Steps.DataBias.CalculatedBaselineConstraints"}
    # The monitoring schedule's bias config is stored too, as the SDK uploads it.
    uri = bias.clarify_check_config.monitoring_analysis_config_uri
    assert uri.startswith("s3://my-bucket/model-monitor/bias-monitoring-configuration/bias-monitoring-config-")
    key = uri[len("s3://my-bucket/") :]
    assert json.loads(aws_session.read_s3_bytes("my-bucket", key)) == {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}],
        "group_variable": "age",
        "headers": ["target", "age", "sex"],
        "label": "target",
    }


def test_running_check_steps_fails_before_anything_runs(aws_session, workdir):
    pipeline = check_pipeline(aws_session, workdir)
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    message = str(info.value)
    # One error lists every step that cannot run, by name and type.
    assert "DataQuality" in message and "QualityCheck" in message
    assert "DataBias" in message and "ClarifyCheck" in message
    assert "register a local handler" in message
    assert lib.runs(workdir) == []  # Prepare did not run
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


def test_check_steps_outside_a_selective_run_do_not_block_it(aws_session, workdir):
    pipeline = check_pipeline(aws_session, workdir)
    execution = pipeline.start(selective_execution_config=SelectiveExecutionConfig(selected_steps=["Prepare"]))
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert lib.runs(workdir) == ["Prepare"]
    assert [s["StepName"] for s in execution.list_steps()] == ["Prepare"]


def test_check_steps_run_through_registered_handlers(aws_session, workdir):
    seen = {}

    def handler(task):
        seen[task["step_name"]] = task
        uri = f"s3://my-bucket/baselines/{task['step_name']}/constraints.json"
        return {"ok": True, "properties": {"CalculatedBaselineConstraints": uri}}

    local_runners.register_step_type("QualityCheck", handler)
    local_runners.register_step_type("ClarifyCheck", handler)
    try:
        pipeline = check_pipeline(aws_session, workdir)
        execution = pipeline.start(parameters={"BaselineData": "s3://my-bucket/other/data.csv"})
        execution.wait()
    finally:
        local_runners.unregister_step_type("QualityCheck")
        local_runners.unregister_step_type("ClarifyCheck")
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert lib.runs(workdir) == ["Prepare"]
    assert set(seen) == {"DataQuality", "DataBias"}
    # The handler gets the job request with pipeline variables resolved.
    inputs = seen["DataQuality"]["arguments"]["ProcessingInputs"]
    assert inputs[0]["S3Input"]["S3Uri"] == "s3://my-bucket/other/data.csv"


def test_model_quality_and_model_clarify_checks(aws_session):
    job = CheckJobConfig(role=ROLE, sagemaker_session=aws_session)
    model_quality = QualityCheckStep(
        name="ModelQuality",
        quality_check_config=ModelQualityCheckConfig(
            baseline_dataset="s3://my-bucket/mq/data.jsonl",
            dataset_format=DatasetFormat.json(lines=True),
            problem_type="BinaryClassification",
            inference_attribute="prediction",
            probability_threshold_attribute=0.5,
        ),
        check_job_config=job,
    )
    env = model_quality.arguments["Environment"]
    assert env["analysis_type"] == "MODEL_QUALITY"
    assert env["problem_type"] == "BinaryClassification"
    assert env["inference_attribute"] == "prediction"
    assert env["probability_threshold_attribute"] == "0.5"
    assert env["dataset_format"] == '{"json": {"lines": true}}'
    # Default output: the SDK's baselining path under the default bucket.
    output = model_quality.arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output.startswith("s3://my-bucket/model-monitor/baselining/baseline-suggestion-job-")
    assert output.endswith("/results")
    assert "StoppingCondition" not in model_quality.arguments

    model = ModelConfig(model_name="my-model", instance_type="ml.m5.xlarge", instance_count=1, accept_type="text/csv")
    model_bias = ClarifyCheckStep(
        name="ModelBias",
        clarify_check_config=ModelBiasCheckConfig(
            data_config=data_config(),
            data_bias_config=bias_config(),
            model_config=model,
            model_predicted_label_config=ModelPredictedLabelConfig(probability_threshold=0.6),
        ),
        check_job_config=job,
    )
    request = model_bias.to_request()
    assert request["CheckType"] == "MODEL_BIAS" and request["ModelName"] == "my-model"
    stored = json.loads(aws_session.read_s3_bytes("my-bucket", "clarify/out/analysis_config.json"))
    assert stored["methods"]["post_training_bias"] == {"methods": "all"}
    predictor = {"instance_type": "ml.m5.xlarge", "initial_instance_count": 1, "accept_type": "text/csv"}
    assert stored["predictor"] == predictor
    assert stored["probability_threshold"] == 0.6

    shap = SHAPConfig(baseline=[[0.5, 0.5]], num_samples=10, agg_method="mean_abs")
    explain = ClarifyCheckStep(
        name="Explain",
        clarify_check_config=ModelExplainabilityCheckConfig(
            data_config=data_config(), model_config=model, explainability_config=shap
        ),
        check_job_config=job,
    )
    assert explain.to_request()["CheckType"] == "MODEL_EXPLAINABILITY"
    stored = json.loads(aws_session.read_s3_bytes("my-bucket", "clarify/out/analysis_config.json"))
    assert stored["methods"]["shap"] == {
        "use_logit": False,
        "save_local_shap_values": True,
        "baseline": [[0.5, 0.5]],
        "num_samples": 10,
        "agg_method": "mean_abs",
    }


def test_check_step_config_errors(aws_session):
    job = CheckJobConfig(role=ROLE, sagemaker_session=aws_session)
    with pytest.raises(RuntimeError, match="DataQualityCheckConfig or ModelQualityCheckConfig"):
        QualityCheckStep(
            name="Q",
            quality_check_config=QualityCheckConfig("s3://b/d.csv", DatasetFormat.csv()),
            check_job_config=job,
        )
    with pytest.raises(ValueError, match="cannot be Parameter types other than ParameterString"):
        from sagepipe.workflow.parameters import ParameterInteger

        QualityCheckStep(
            name="Q",
            quality_check_config=ModelQualityCheckConfig(
                "s3://b/d.csv", DatasetFormat.csv(), "Regression", inference_attribute=ParameterInteger("Index")
            ),
            check_job_config=job,
        )
    with pytest.raises(RuntimeError, match="s3_analysis_config_output_path cannot be"):
        config = DataConfig(
            s3_data_input_path="s3://b/in",
            s3_output_path="s3://b/out",
            s3_analysis_config_output_path=ParameterString("Where"),
        )
        ClarifyCheckStep(
            name="C",
            clarify_check_config=DataBiasCheckConfig(data_config=config, data_bias_config=bias_config()),
            check_job_config=job,
        )
    with pytest.raises(ValueError, match="features JMESPath is required"):
        DataConfig(s3_data_input_path="s3://b/in", s3_output_path="s3://b/out", dataset_type="application/json")
    with pytest.raises(ValueError, match="doesn't match the number of facet values"):
        BiasConfig([1], facet_name=["a", "b"], facet_values_or_threshold=[1])


# --- AutoML, notebook jobs, endpoints, lineage, Bedrock -------------------------------------------


def automl_step(session, mode="ENSEMBLING"):
    from sagepipe.automl import AutoML, AutoMLInput
    from sagepipe.workflow.automl_step import AutoMLStep

    auto_ml = AutoML(
        role=ROLE,
        target_attribute_name="y",
        sagemaker_session=session,
        output_path="s3://my-bucket/automl/",
        problem_type="BinaryClassification",
        job_objective={"MetricName": "F1"},
        max_candidates=2,
        mode=mode,
        endpoint_name="never-deployed",
    )
    step_args = auto_ml.fit(inputs=[AutoMLInput(inputs="s3://my-bucket/train", target_attribute_name="y")])
    return AutoMLStep(name="AutoPilot", step_args=step_args)


def test_automl_step_builds_the_sdk_definition(aws_session):
    step = automl_step(aws_session)
    pipeline = Pipeline(name="automl", steps=[step], sagemaker_session=aws_session)
    assert steps_by_name(pipeline)["AutoPilot"] == {
        "Name": "AutoPilot",
        "Type": "AutoML",
        "Arguments": {
            "AutoMLJobConfig": {
                "CompletionCriteria": {"MaxCandidates": 2},
                "Mode": "ENSEMBLING",
                "SecurityConfig": {"EnableInterContainerTrafficEncryption": False},
            },
            "AutoMLJobObjective": {"MetricName": "F1"},
            "InputDataConfig": [
                {
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://my-bucket/train"}},
                    "TargetAttributeName": "y",
                }
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://my-bucket/automl/"},
            "ProblemType": "BinaryClassification",
            "RoleArn": ROLE,
        },
    }
    assert step.properties.BestCandidateProperties.ModelInsightsJsonReportPath.expr == {
        "Get": "Steps.AutoPilot.BestCandidateProperties.ModelInsightsJsonReportPath"
    }
    model = step.get_best_auto_ml_model(role=ROLE, sagemaker_session=aws_session)
    assert model.image_uri.expr == {"Get": "Steps.AutoPilot.BestCandidate.InferenceContainers[0].Image"}


def test_automl_step_needs_ensembling_and_a_pipeline_session(aws_session):
    from sagepipe.automl import AutoML
    from sagepipe.exceptions import AutoMLStepInvalidModeError, PipelineSessionRequiredError
    from sagepipe.session import Session

    with pytest.raises(AutoMLStepInvalidModeError):
        _ = automl_step(aws_session, mode="HYPERPARAMETER_TUNING").arguments
    with pytest.raises(PipelineSessionRequiredError):
        AutoML(role=ROLE, target_attribute_name="y", sagemaker_session=Session()).fit("s3://my-bucket/train")


def notebook_step(tmp_path, **kwargs):
    from sagepipe.workflow.notebook_job_step import NotebookJobStep

    notebook = tmp_path / "analyse.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    return NotebookJobStep(
        name="Analyse",
        input_notebook=str(notebook),
        image_uri="885854791233.dkr.ecr.us-west-2.amazonaws.com/sagemaker-distribution-prod:1-cpu",
        kernel_name="python3",
        role=ROLE,
        parameters={"threshold": "0.5"},
        **kwargs,
    )


def test_notebook_job_step_builds_and_stores_the_notebook(aws_session, tmp_path):
    step = notebook_step(tmp_path)
    pipeline = Pipeline(name="nb", steps=[step], sagemaker_session=aws_session)
    definition = steps_by_name(pipeline)["Analyse"]
    assert definition["Type"] == "Training"
    args = definition["Arguments"]
    assert args["AlgorithmSpecification"]["ContainerEntrypoint"] == ["amazon_sagemaker_scheduler"]
    assert args["HyperParameters"] == {"threshold": "0.5"}
    assert args["Environment"]["SM_INPUT_NOTEBOOK_NAME"] == "analyse.ipynb"
    assert args["Environment"]["SM_KERNEL_NAME"] == "python3"
    assert args["OutputDataConfig"]["S3OutputPath"] == {
        "Std:Join": {"On": "/", "Values": ["s3://my-bucket", "nb", {"Get": "Execution.PipelineExecutionId"}, "Analyse"]}
    }
    # The notebook is stored where the input channel points.
    folder = args["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert folder.startswith("s3://my-bucket/nb/Analyse/input-")
    key = folder[len("s3://my-bucket/") :] + "/analyse.ipynb"
    assert b'"nbformat": 4' in aws_session.read_s3_bytes("my-bucket", key)


def test_notebook_job_fails_early_unless_a_handler_is_registered(aws_session, tmp_path, workdir):
    prepared = lib.prepare(workdir)
    pipeline = Pipeline(
        name="nb", steps=[notebook_step(tmp_path, depends_on=[prepared])], sagemaker_session=aws_session
    )
    with pytest.raises(UnsupportedStepError, match="step 'Analyse' of type NotebookJob"):
        pipeline.start()
    assert lib.runs(workdir) == []

    seen = []
    local_runners.register_step_type("NotebookJob", lambda task: seen.append(task) or {"ok": True})
    try:
        execution = pipeline.start()
        execution.wait()
    finally:
        local_runners.unregister_step_type("NotebookJob")
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert [t["step_type"] for t in seen] == ["NotebookJob"]
    assert seen[0]["arguments"]["HyperParameters"] == {"threshold": "0.5"}


def passthrough_steps():
    from sagepipe.workflow.bedrock_steps import BedrockModelImportStep
    from sagepipe.workflow.endpoint_step import EndpointConfigStep, EndpointStep
    from sagepipe.workflow.inference_component_step import InferenceComponentStep
    from sagepipe.workflow.lineage_step import LineageStep

    config = EndpointConfigStep(
        name="Config",
        arguments={
            "EndpointConfigName": "cfg",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1}],
        },
        cache_config=CacheConfig(enable_caching=True, expire_after="P1D"),
    )
    endpoint = EndpointStep(
        name="Deploy",
        arguments={"EndpointName": "ep", "EndpointConfigName": config.properties.EndpointConfigName},
    )
    component = InferenceComponentStep(
        name="Component",
        arguments={"InferenceComponentName": "ic", "EndpointName": "ep", "VariantName": "AllTraffic"},
        depends_on=[endpoint],
    )
    lineage = LineageStep(
        name="Lineage", arguments={"Actions": [{"ActionName": "a", "ActionType": "T", "Status": "Completed"}]}
    )
    bedrock = BedrockModelImportStep(
        name="Import", arguments={"JobName": "j", "ImportedModelName": "m", "RoleArn": ROLE, "ModelDataSource": {}}
    )
    return [config, endpoint, component, lineage, bedrock]


def test_passthrough_steps_build_their_requests(aws_session):
    pipeline = Pipeline(name="deploy", steps=passthrough_steps(), sagemaker_session=aws_session)
    steps = steps_by_name(pipeline)
    assert steps["Config"] == {
        "Name": "Config",
        "Type": "EndpointConfig",
        "Arguments": {
            "EndpointConfigName": "cfg",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1}],
        },
        "CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"},
    }
    assert steps["Deploy"]["Arguments"]["EndpointConfigName"] == {"Get": "Steps.Config.EndpointConfigName"}
    assert steps["Component"]["Type"] == "InferenceComponent" and steps["Component"]["DependsOn"] == ["Deploy"]
    assert steps["Lineage"]["Type"] == "Lineage"
    assert steps["Import"]["Type"] == "BedrockModelImport"


def test_passthrough_steps_reject_what_the_service_rejects():
    from sagepipe.workflow.bedrock_steps import BedrockProvisionedModelThroughputStep
    from sagepipe.workflow.endpoint_step import EndpointConfigStep, EndpointStep
    from sagepipe.workflow.lineage_step import LineageStep

    with pytest.raises(ValueError, match="DataCaptureConfig"):
        EndpointConfigStep(name="C", arguments={"EndpointConfigName": "c", "DataCaptureConfig": {}})
    with pytest.raises(ValueError, match="Bogus"):
        EndpointStep(name="E", arguments={"EndpointName": "e", "Bogus": 1})
    with pytest.raises(ValueError, match="non-empty"):
        EndpointStep(name="E", arguments={})
    with pytest.raises(TypeError):
        EndpointStep(name="E", arguments={"EndpointName": "e"}, retry_policies=[])
    with pytest.raises(ValueError, match="at least one of"):
        LineageStep(name="L", arguments={"Other": []})
    # Bedrock members are camelCase in the API, PascalCase in the pipeline arguments.
    assert BedrockProvisionedModelThroughputStep(name="P", arguments={"ModelUnits": 1}).arguments == {"ModelUnits": 1}
    with pytest.raises(ValueError, match="modelUnits"):
        BedrockProvisionedModelThroughputStep(name="P", arguments={"modelUnits": 1})


def test_every_aws_side_step_is_named_in_one_early_error(aws_session, workdir):
    prepared = lib.prepare(workdir)
    steps = passthrough_steps()
    steps[0].add_depends_on([prepared])
    pipeline = Pipeline(name="deploy", steps=steps, sagemaker_session=aws_session)
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    message = str(info.value)
    for name, step_type in [
        ("Config", "EndpointConfig"),
        ("Deploy", "Endpoint"),
        ("Component", "InferenceComponent"),
        ("Lineage", "Lineage"),
        ("Import", "BedrockModelImport"),
    ]:
        assert f"step '{name}' of type {step_type} has no local meaning" in message
    assert "5 problems" in message
    assert lib.runs(workdir) == []


# --- triggers and pipeline versions ------------------------------------------------------------


def test_put_describe_delete_triggers(aws_session):
    from datetime import datetime, timezone

    from sagepipe.workflow.triggers import PipelineSchedule

    pipeline = Pipeline(
        name="scheduled",
        parameters=[ParameterString("Input", default_value="s3://my-bucket/in")],
        steps=passthrough_steps()[3:4],
        sagemaker_session=aws_session,
    )
    with pytest.raises(RuntimeError, match="does not exist"):
        pipeline.put_triggers([PipelineSchedule(cron="0 1 * * ? *")], role_arn=ROLE)
    pipeline.create(role_arn=ROLE)
    start = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with pytest.warns(UserWarning, match="does not fire locally"):
        arns = pipeline.put_triggers(
            [PipelineSchedule(cron="0 1 * * ? *", start_date=start), PipelineSchedule(name="hourly", rate=(1, "hour"))],
            role_arn=ROLE,
        )
    assert arns == [
        "arn:aws:scheduler:local:000000000000:schedule/default/scheduled",
        "arn:aws:scheduler:local:000000000000:schedule/default/hourly",
    ]
    assert pipeline.describe_trigger("scheduled") == {
        "Schedule_Arn": arns[0],
        "Schedule_Expression": "cron(0 1 * * ? *)",
        "Schedule_State": "ENABLED",
        "Schedule_Start_Date": "2030-01-02T03:04:05Z",
        "Schedule_Role": ROLE,
    }
    # put_triggers upserts: the same name replaces the schedule.
    with pytest.warns(UserWarning):
        pipeline.put_triggers([PipelineSchedule(name="hourly", rate=(2, "hours"), enabled=False)], role_arn=ROLE)
    assert pipeline.describe_trigger("hourly")["Schedule_Expression"] == "rate(2 hours)"
    assert pipeline.describe_trigger("hourly")["Schedule_State"] == "DISABLED"
    # Another process sees the recorded schedules.
    same = Pipeline(name="scheduled", sagemaker_session=PipelineSession(store=aws_session.store_root))
    assert same.describe_trigger("hourly")["Schedule_Expression"] == "rate(2 hours)"

    pipeline.delete_triggers(["hourly", "never-created"])  # a missing name is skipped, as the SDK does
    with pytest.raises(Exception) as info:
        pipeline.describe_trigger("hourly")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert pipeline.describe_trigger("scheduled")["Schedule_Arn"] == arns[0]
    # Nothing fired: the schedules are records only.
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


def test_put_triggers_validates_like_the_sdk(aws_session):
    from sagepipe.workflow.triggers import PipelineSchedule

    pipeline = Pipeline(
        name="needs-defaults",
        parameters=[ParameterString("NoDefault")],
        steps=passthrough_steps()[3:4],
        sagemaker_session=aws_session,
    )
    pipeline.create(role_arn=ROLE)
    with pytest.raises(ValueError, match="IAM role is required"):
        pipeline.put_triggers([PipelineSchedule(cron="0 1 * * ? *")])
    with pytest.raises(ValueError, match=r"don't have defaults \['NoDefault'\]"):
        pipeline.put_triggers([PipelineSchedule(cron="0 1 * * ? *")], role_arn=ROLE)
    with pytest.raises(TypeError, match="Too many types"):
        PipelineSchedule(cron="x", rate=(1, "day")).resolve_schedule_expression()
    with pytest.raises(ValueError, match="No schedule type"):
        PipelineSchedule().resolve_schedule_expression()


def test_pipeline_versions_are_listed_and_startable(aws_session, workdir):
    first = Pipeline(name="versions", steps=[lib.prepare(workdir)], sagemaker_session=aws_session)
    first.create(role_arn=ROLE)
    execution = first.start()
    execution.wait()
    second = Pipeline(
        name="versions",
        steps=[lib.prepare(workdir), *passthrough_steps()[3:4]],
        sagemaker_session=aws_session,
    )
    assert second.update(role_arn=ROLE)["PipelineVersionId"] == 2
    versions = second.list_pipeline_versions()["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]
    assert second.latest_pipeline_version_id == 2
    assert versions[1]["LastExecutionPipelineExecutionArn"] == execution.arn
    assert "LastExecutionPipelineExecutionArn" not in versions[0]
    assert versions[0]["CreationTime"] >= versions[1]["CreationTime"]
    page = second.list_pipeline_versions(sort_order="Ascending", max_results=1)
    assert [v["PipelineVersionId"] for v in page["PipelineVersionSummaries"]] == [1]
    assert (
        second.list_pipeline_versions(next_token=page["NextToken"], sort_order="Ascending")["PipelineVersionSummaries"][
            0
        ]["PipelineVersionId"]
        == 2
    )
    # Version 1 (no Lineage step) still runs by its id, while version 2 cannot run locally.
    again = Pipeline(name="versions", sagemaker_session=aws_session).start(pipeline_version_id=1)
    again.wait()
    assert again.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert again.describe()["PipelineVersionId"] == 1
    with pytest.raises(UnsupportedStepError, match="Lineage"):
        Pipeline(name="versions", sagemaker_session=aws_session).start()


def test_endpoint_steps_from_pipeline_session_calls(aws_session):
    """The SDK 2.257.7 form: the step arguments come from PipelineSession calls."""
    from sagepipe.exceptions import PipelineSessionRequiredError
    from sagepipe.session import Session
    from sagepipe.workflow.endpoint_step import EndpointConfigStep, EndpointStep
    from sagepipe.workflow.inference_component_step import InferenceComponentStep

    config = EndpointConfigStep(
        name="Cfg",
        step_args=aws_session.create_endpoint_config(
            name="cfg", model_name="m", initial_instance_count=1, instance_type="ml.m5.large"
        ),
    )
    endpoint = EndpointStep(
        name="Ep",
        step_args=aws_session.create_endpoint(endpoint_name="ep", config_name=config.properties.EndpointConfigName),
    )
    component = InferenceComponentStep(
        name="IC",
        step_args=aws_session.create_inference_component(
            inference_component_name="ic",
            endpoint_name="ep",
            variant_name="AllTraffic",
            specification={"ModelName": "m"},
        ),
    )
    shared = aws_session.create_endpoint_config(
        name="shared",
        production_variants=[{"VariantName": "v", "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 1}],
        role=ROLE,
        tags={"team": "ml"},
    )
    for_components = EndpointConfigStep(name="Shared", step_args=shared)
    pipeline = Pipeline(name="ep", steps=[config, endpoint, component, for_components], sagemaker_session=aws_session)
    steps = steps_by_name(pipeline)
    assert steps["Cfg"]["Arguments"] == {
        "EndpointConfigName": "cfg",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InitialVariantWeight": 1,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        "Tags": [],
    }
    assert steps["Ep"]["Arguments"] == {
        "EndpointName": "ep",
        "EndpointConfigName": {"Get": "Steps.Cfg.EndpointConfigName"},
        "Tags": [],
    }
    assert steps["IC"]["Arguments"]["RuntimeConfig"] == {"CopyCount": 1}
    # No variant names a model: the endpoint config carries the role.
    assert steps["Shared"]["Arguments"]["ExecutionRoleArn"] == ROLE
    assert steps["Shared"]["Arguments"]["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ValueError, match="create_endpoint_config"):
        EndpointConfigStep(name="Wrong", step_args=aws_session.create_endpoint(endpoint_name="e", config_name="c"))
    with pytest.raises(PipelineSessionRequiredError):
        Session().create_endpoint(endpoint_name="e", config_name="c")


def test_quality_check_stores_local_files_where_the_sdk_uploads_them(aws_session, tmp_path):
    data = tmp_path / "baseline.csv"
    data.write_text("a,b\n1,2\n")
    script = tmp_path / "preprocess.py"
    script.write_text("def preprocess_handler(inference_record):\n    return {}\n")
    job = CheckJobConfig(role=ROLE, base_job_name="dq-baseline", sagemaker_session=aws_session)
    step = QualityCheckStep(
        name="DQ",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=str(data), dataset_format=DatasetFormat.csv(), record_preprocessor_script=str(script)
        ),
        check_job_config=job,
    )
    args = step.arguments
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in args["ProcessingInputs"]}
    prefix = "s3://my-bucket/model-monitor/baselining/dq-baseline-"
    assert inputs["baseline_dataset_input"].startswith(prefix)
    # The input is the S3 prefix the file was stored under, as the SDK uploads it.
    assert inputs["baseline_dataset_input"].endswith("/input/baseline_dataset_input")
    assert inputs["record_preprocessor_script_input"].endswith("/input/record_preprocessor_script_input")
    key = inputs["baseline_dataset_input"][len("s3://my-bucket/") :] + "/baseline.csv"
    assert aws_session.read_s3_bytes("my-bucket", key) == b"a,b\n1,2\n"
    assert args["Environment"]["record_preprocessor_script"] == (
        "/opt/ml/processing/input/record_preprocessor_script_input/preprocess.py"
    )
    assert args["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].startswith(prefix)


def test_lineage_step_from_captured_entities(aws_session):
    """The SDK 2.257.7 form: entities captured from the lineage create calls, plus associations."""
    from sagepipe.exceptions import PipelineSessionRequiredError
    from sagepipe.lineage.action import Action
    from sagepipe.lineage.artifact import Artifact
    from sagepipe.session import Session
    from sagepipe.workflow.lineage_step import LineageAssociation, LineageEntityReference, LineageStep

    action = Action.create(
        action_name="train",
        source_uri="s3://b/run",
        source_type="S3ETag",
        action_type="ModelTraining",
        status="Completed",
        sagemaker_session=aws_session,
    )
    model = Artifact.create(
        artifact_name="model", source_uri="s3://b/model.tar.gz", artifact_type="Model", sagemaker_session=aws_session
    )
    produced = LineageAssociation(
        source=LineageEntityReference(name="train", type="Action"),
        destination=LineageEntityReference(name="model", type="Artifact"),
        association_type="Produced",
    )
    step = LineageStep(name="Record", actions=action, artifacts=[model], associations=[produced])
    assert step.arguments == {
        "Actions": [
            {
                "ActionName": "train",
                "Source": {"SourceUri": "s3://b/run", "SourceType": "S3ETag"},
                "ActionType": "ModelTraining",
                "Status": "Completed",
            }
        ],
        "Artifacts": [
            {"ArtifactName": "model", "Source": {"SourceUri": "s3://b/model.tar.gz"}, "ArtifactType": "Model"}
        ],
        "Associations": [
            {
                "Source": {"Name": "train", "Type": "Action"},
                "Destination": {"Name": "model", "Type": "Artifact"},
                "AssociationType": "Produced",
            }
        ],
    }
    assert step.properties.ArtifactArns["model"].expr == {"Get": "Steps.Record.ArtifactArns['model']"}
    dangling = LineageAssociation(
        source=LineageEntityReference(name="other", type="Action"), destination=LineageEntityReference(arn="arn:x")
    )
    with pytest.raises(ValueError, match="Action 'other', which this step does not create"):
        LineageStep(name="Record", actions=action, associations=[dangling])
    with pytest.raises(ValueError, match="must be obtained from Action.create"):
        LineageStep(name="Record", actions=model)
    with pytest.raises(PipelineSessionRequiredError):
        Action.create(action_name="a", sagemaker_session=Session())
