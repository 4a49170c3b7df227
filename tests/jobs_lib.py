"""Builders of job step definitions shaped exactly as SageMaker SDK 2.257 writes them
(CreateProcessingJob / CreateTrainingJob / CreateTransformJob / CreateModel /
CreateModelPackage requests minus the job name), and the Abalone pipeline built from them."""

import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).parent
# The Abalone scripts and data the package ships for its demo (one copy of each).
ABALONE_SCRIPTS = HERE.parent / "python" / "sagepipe" / "demo_code"
ABALONE_DATA = HERE.parent / "python" / "sagepipe" / "data" / "abalone.csv"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "my-bucket"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def get(path: str) -> Dict[str, str]:
    return {"Get": path}


def join(*values: Any, on: str = "/") -> Dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


def default_output(pipeline: str, step: str, output: str) -> Dict[str, Any]:
    """The SDK's default processing output URI (with the execution id in it)."""
    return join("s3:/", BUCKET, pipeline, get("Execution.PipelineExecutionId"), step, "output", output)


def put_in_store(store_root: Path, uri: str, source: Path) -> str:
    """Place a file in the store's artifact area at an s3:// URI (what an SDK upload does)."""
    dest = Path(store_root) / "s3" / uri[len("s3://") :]
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return uri


def processing_input(name: str, uri: Any, local_path: str) -> Dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def processing_output(name: str, uri: Any, local_path: str) -> Dict[str, Any]:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def processing_step(
    name: str,
    entrypoint: Optional[List[str]],
    inputs: List[Dict[str, Any]],
    outputs: List[Dict[str, Any]],
    arguments: Optional[List[Any]] = None,
    environment: Optional[Dict[str, str]] = None,
    image: str = SKLEARN_IMAGE,
    property_files: Optional[List[Dict[str, str]]] = None,
    max_runtime: Optional[int] = None,
) -> Dict[str, Any]:
    app: Dict[str, Any] = {"ImageUri": image}
    if arguments:
        app["ContainerArguments"] = arguments
    if entrypoint:
        app["ContainerEntrypoint"] = entrypoint
    args: Dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
        },
        "AppSpecification": app,
        "RoleArn": ROLE,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": outputs},
    }
    if environment:
        args["Environment"] = environment
    if max_runtime:
        args["StoppingCondition"] = {"MaxRuntimeInSeconds": max_runtime}
    step: Dict[str, Any] = {"Name": name, "Type": "Processing", "Arguments": args}
    if property_files:
        step["PropertyFiles"] = property_files
    return step


def channel(name: str, uri: Any, content_type: Optional[str] = "text/csv") -> Dict[str, Any]:
    c: Dict[str, Any] = {
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        },
        "ChannelName": name,
    }
    if content_type:
        c["ContentType"] = content_type
    return c


def training_step(
    name: str,
    image: str,
    hyperparameters: Dict[str, Any],
    channels: List[Dict[str, Any]],
    output_path: Any,
    metric_definitions: Optional[List[Dict[str, str]]] = None,
    environment: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"TrainingInputMode": "File", "TrainingImage": image}
    if metric_definitions:
        spec["MetricDefinitions"] = metric_definitions
    args: Dict[str, Any] = {
        "AlgorithmSpecification": spec,
        "OutputDataConfig": {"S3OutputPath": output_path},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
        "RoleArn": ROLE,
        "InputDataConfig": channels,
        "HyperParameters": hyperparameters,
        "DebugHookConfig": {"S3OutputPath": output_path, "CollectionConfigurations": []},
        "ProfilerConfig": {"DisableProfiler": True},
    }
    if environment:
        args["Environment"] = environment
    return {"Name": name, "Type": "Training", "Arguments": args}


def model_step(name: str, image: str, model_data: Any, environment: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    return {
        "Name": name,
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": image, "Environment": environment or {}, "ModelDataUrl": model_data},
        },
    }


def transform_step(
    name: str, model_name: Any, input_uri: Any, output_uri: Any, join_source: Optional[str] = None
) -> Dict[str, Any]:
    step: Dict[str, Any] = {
        "Name": name,
        "Type": "Transform",
        "Arguments": {
            "ModelName": model_name,
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            "TransformOutput": {"S3OutputPath": output_uri, "AssembleWith": "Line", "Accept": "text/csv"},
            "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
        },
    }
    if join_source:
        step["Arguments"]["DataProcessing"] = {"InputFilter": "$", "OutputFilter": "$", "JoinSource": join_source}
    return step


def definition(steps: List[Dict[str, Any]], parameters: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters or [],
        "PipelineExperimentConfig": {
            "ExperimentName": get("Execution.PipelineName"),
            "TrialName": get("Execution.PipelineExecutionId"),
        },
        "Steps": steps,
    }


PIPELINE = "AbalonePipeline"
MODEL_GROUP = "AbaloneModelPackageGroup"


def abalone_definition(store_root: Path) -> Dict[str, Any]:
    """The Abalone walkthrough: Preprocess -> Train (built-in XGBoost) -> Evaluate (PropertyFile)
    -> MSE condition -> CreateModel + RegisterModel + Transform, else Fail."""
    code = {
        s: put_in_store(store_root, f"s3://{BUCKET}/{PIPELINE}/code/{s}", ABALONE_SCRIPTS / s)
        for s in ("preprocess.py", "evaluate.py")
    }
    put_in_store(store_root, f"s3://{BUCKET}/abalone/abalone.csv", ABALONE_DATA)
    parameters = [
        {"Name": "InputData", "Type": "String", "DefaultValue": f"s3://{BUCKET}/abalone/abalone.csv"},
        {"Name": "MseThreshold", "Type": "Float", "DefaultValue": 6.0},
        {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"},
    ]
    outputs = {o: default_output(PIPELINE, "AbaloneProcess", o) for o in ("train", "validation", "test", "batch")}
    process = processing_step(
        "AbaloneProcess",
        ["python3", "/opt/ml/processing/input/code/preprocess.py"],
        [
            processing_input("input-1", get("Parameters.InputData"), "/opt/ml/processing/input"),
            processing_input("code", code["preprocess.py"], "/opt/ml/processing/input/code"),
        ],
        [processing_output(o, uri, f"/opt/ml/processing/{o}") for o, uri in outputs.items()],
    )
    out = "Steps.AbaloneProcess.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"
    train = training_step(
        "AbaloneTrain",
        XGBOOST_IMAGE,
        {
            "objective": "reg:linear",
            "num_round": "50",
            "max_depth": "5",
            "eta": "0.2",
            "gamma": "4",
            "min_child_weight": "6",
            "subsample": "0.7",
            "eval_metric": "rmse,mse",
        },
        [channel("train", get(out.format("train"))), channel("validation", get(out.format("validation")))],
        f"s3://{BUCKET}/{PIPELINE}/AbaloneTrain",
    )
    evaluation_uri = default_output(PIPELINE, "AbaloneEval", "evaluation")
    evaluate = processing_step(
        "AbaloneEval",
        ["python3", "/opt/ml/processing/input/code/evaluate.py"],
        [
            processing_input(
                "input-1", get("Steps.AbaloneTrain.ModelArtifacts.S3ModelArtifacts"), "/opt/ml/processing/model"
            ),
            processing_input("input-2", get(out.format("test")), "/opt/ml/processing/test"),
            processing_input("code", code["evaluate.py"], "/opt/ml/processing/input/code"),
        ],
        [processing_output("evaluation", evaluation_uri, "/opt/ml/processing/evaluation")],
        property_files=[
            {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}
        ],
    )
    model_data = get("Steps.AbaloneTrain.ModelArtifacts.S3ModelArtifacts")
    create_model = model_step("AbaloneCreateModel", XGBOOST_IMAGE, model_data)
    register = {
        "Name": "AbaloneRegisterModel",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": MODEL_GROUP,
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": join(
                            get("Steps.AbaloneEval.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"),
                            "evaluation.json",
                        ),
                    }
                },
                "Bias": {},
                "Explainability": {},
            },
            "InferenceSpecification": {
                "Containers": [{"Image": XGBOOST_IMAGE, "Environment": {}, "ModelDataUrl": model_data}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
                "SupportedRealtimeInferenceInstanceTypes": ["ml.t2.medium", "ml.m5.xlarge"],
                "SupportedTransformInstanceTypes": ["ml.m5.xlarge"],
            },
            "ModelApprovalStatus": get("Parameters.ModelApprovalStatus"),
            "CustomerMetadataProperties": {"dataset": "abalone"},
            "SkipModelValidation": "None",
        },
    }
    transform = transform_step(
        "AbaloneTransform",
        get("Steps.AbaloneCreateModel.ModelName"),
        get(out.format("batch")),
        join("s3:/", BUCKET, PIPELINE, get("Execution.PipelineExecutionId"), "AbaloneTransform"),
    )
    fail = {
        "Name": "AbaloneMSEFail",
        "Type": "Fail",
        "Arguments": {"ErrorMessage": join("Execution failed due to MSE >", get("Parameters.MseThreshold"), on=" ")},
    }
    condition = {
        "Name": "AbaloneMSECond",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "LessThanOrEqualTo",
                    "LeftValue": {
                        "Std:JsonGet": {
                            "PropertyFile": get("Steps.AbaloneEval.PropertyFiles.EvaluationReport"),
                            "Path": "regression_metrics.mse.value",
                        }
                    },
                    "RightValue": get("Parameters.MseThreshold"),
                },
                {
                    "Type": "Not",
                    "Condition": {
                        "Type": "GreaterThan",
                        "LeftValue": get("Steps.AbaloneTrain.FinalMetricDataList['validation:mse'].Value"),
                        "RightValue": 100,
                    },
                },
            ],
            "IfSteps": [register, create_model, transform],
            "ElseSteps": [fail],
        },
    }
    return definition([process, train, evaluate, condition], parameters)


def step_seconds(execution) -> Dict[str, float]:
    """Wall time of each step from its record."""
    return {
        s["StepName"]: (s["EndTime"] - s["StartTime"]).total_seconds()
        for s in execution.list_steps()
        if s.get("EndTime") and s.get("StartTime")
    }
