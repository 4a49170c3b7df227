"""The SageMaker Abalone walkthrough pipeline, written for the SageMaker Python SDK v2 as users
write it: nothing here refers to sagepipe, so the same file runs on SageMaker.

    python abalone_v2.py DATA_CSV CODE_DIR [--select Train,Evaluate]

Uploads DATA_CSV, upserts the pipeline and starts it (with ``--select``: a Selective Execution of
those steps whose reference is the latest execution), waits, and prints one line per step.
"""

import argparse
import json

from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.s3 import S3Uploader
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.selective_execution_config import SelectiveExecutionConfig
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep, TransformStep

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"


def build(session, input_uri, code_dir):
    region = session.boto_region_name
    bucket = session.default_bucket()
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    input_data = ParameterString("InputData", default_value=input_uri)
    mse_threshold = ParameterFloat("MseThreshold", default_value=6.0)
    eta = ParameterFloat("Eta", default_value=0.2)
    max_depth = ParameterInteger("MaxDepth", default_value=5)

    sklearn_processor = SKLearnProcessor(
        framework_version="1.2-1", instance_type="ml.m5.xlarge", instance_count=1, role=ROLE,
        sagemaker_session=session,
    )  # fmt: skip
    step_process = ProcessingStep(
        name="Preprocess",
        step_args=sklearn_processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name=name, source=f"/opt/ml/processing/{name}")
                for name in ("train", "validation", "test", "batch")
            ],
            code=f"{code_dir}/preprocess.py",
        ),
        cache_config=cache,
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs

    image_uri = image_uris.retrieve(framework="xgboost", region=region, version="1.0-1", py_version="py3")
    xgb = Estimator(
        image_uri=image_uri, instance_type="ml.m5.xlarge", instance_count=1,
        output_path=f"s3://{bucket}/abalone/model", role=ROLE, sagemaker_session=session,
    )  # fmt: skip
    xgb.set_hyperparameters(
        objective="reg:linear", num_round=50, max_depth=max_depth, eta=eta, gamma=4, min_child_weight=6,
        subsample=0.7,
    )  # fmt: skip
    step_train = TrainingStep(
        name="Train",
        step_args=xgb.fit(
            inputs={
                "train": TrainingInput(s3_data=outputs["train"].S3Output.S3Uri, content_type="text/csv"),
                "validation": TrainingInput(s3_data=outputs["validation"].S3Output.S3Uri, content_type="text/csv"),
            }
        ),
        cache_config=cache,
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=image_uri, command=["python3"], instance_type="ml.m5.xlarge", instance_count=1, role=ROLE,
        sagemaker_session=session,
    )  # fmt: skip
    step_eval = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            inputs=[
                ProcessingInput(source=model_data, destination="/opt/ml/processing/model"),
                ProcessingInput(source=outputs["test"].S3Output.S3Uri, destination="/opt/ml/processing/test"),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
            code=f"{code_dir}/evaluate.py",
        ),
        property_files=[evaluation_report],
    )

    model = Model(image_uri=image_uri, model_data=model_data, role=ROLE, sagemaker_session=session)
    evaluation_uri = step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(on="/", values=[evaluation_uri, "evaluation.json"]), content_type="application/json"
        )
    )
    step_register = ModelStep(
        name="Register",
        step_args=model.register(
            content_types=["text/csv"], response_types=["text/csv"], inference_instances=["ml.t2.medium"],
            transform_instances=["ml.m5.large"], model_package_group_name="AbaloneModels",
            approval_status="PendingManualApproval", model_metrics=metrics,
        ),
    )  # fmt: skip
    step_create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=step_create.properties.ModelName, instance_type="ml.m5.xlarge", instance_count=1,
        output_path=f"s3://{bucket}/abalone/transform", sagemaker_session=session,
    )  # fmt: skip
    step_transform = TransformStep(
        name="Transform",
        step_args=transformer.transform(data=outputs["batch"].S3Output.S3Uri, content_type="text/csv"),
    )
    step_fail = FailStep(
        name="MseTooHigh", error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold])
    )
    step_check = ConditionStep(
        name="CheckMse",
        conditions=[
            ConditionLessThanOrEqualTo(
                left=JsonGet(
                    step_name=step_eval.name, property_file=evaluation_report, json_path="regression_metrics.mse.value"
                ),
                right=mse_threshold,
            )
        ],
        if_steps=[step_register, step_create, step_transform],
        else_steps=[step_fail],
    )
    return Pipeline(
        name="abalone-real-sdk",
        parameters=[input_data, mse_threshold, eta, max_depth],
        steps=[step_process, step_train, step_eval, step_check],
        sagemaker_session=session,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("code_dir")
    parser.add_argument("--select")
    parser.add_argument("--eta", type=float)
    args = parser.parse_args()

    session = PipelineSession()
    input_uri = S3Uploader.upload(
        args.data, f"s3://{session.default_bucket()}/abalone/input", sagemaker_session=session
    )
    pipeline = build(session, input_uri, args.code_dir)
    pipeline.upsert(role_arn=ROLE, tags=[{"Key": "project", "Value": "abalone"}])
    parameters = {"Eta": args.eta} if args.eta is not None else {}
    if args.select:
        config = SelectiveExecutionConfig(selected_steps=args.select.split(","), reference_latest_execution=True)
        execution = pipeline.start(parameters=parameters, selective_execution_config=config)
    else:
        execution = pipeline.start(parameters=parameters)
    try:
        execution.wait(delay=5, max_attempts=120)
    except Exception as error:  # the waiter raises for Failed/Stopped; the steps below say why
        print("WAITER", type(error).__name__, error)
    description = execution.describe()
    print("EXECUTION", description["PipelineExecutionArn"], description["PipelineExecutionStatus"])
    for step in sorted(execution.list_steps(), key=lambda s: s["StepName"]):
        reused = step.get("SelectiveExecutionResult", {}).get("SourcePipelineExecutionArn")
        cached = step.get("CacheHitResult", {}).get("SourcePipelineExecutionArn")
        print("STEP", json.dumps({"name": step["StepName"], "status": step["StepStatus"], "reused": reused,
                                  "cached": cached, "reason": step.get("FailureReason")}))  # fmt: skip


if __name__ == "__main__":
    main()
