"""The SageMaker Abalone walkthrough pipeline, written for the SageMaker Python SDK v3 as users
write it: nothing here refers to sagepipe, so the same file runs on SageMaker.

    python abalone_v3.py DATA_CSV CODE_DIR [--select Train,Evaluate] [--eta 0.3] [--mse-threshold 0.5]

Uploads DATA_CSV, upserts the pipeline and starts it (with ``--select``: a Selective Execution of
those steps whose reference is the latest execution), waits, and prints one line per step.
"""

import argparse
import json
import os

from sagemaker.core import image_uris
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.s3 import S3Uploader
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.transformer import Transformer
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.selective_execution_config import SelectiveExecutionConfig
from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep, TrainingStep, TransformStep
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"
# The script-mode trainer's source directory, next to this file.
RIDGE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "abalone_v3_ridge")


def processing_input(name, source, destination):
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=source, local_path=destination, s3_data_type="S3Prefix"),
    )


def processing_output(name, source, destination=None):
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"),
    )


def build(session, input_uri, code_dir):
    region = session.boto_region_name
    bucket = session.default_bucket()
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    input_data = ParameterString("InputData", default_value=input_uri)
    mse_threshold = ParameterFloat("MseThreshold", default_value=6.0)
    eta = ParameterFloat("Eta", default_value=0.2)
    max_depth = ParameterInteger("MaxDepth", default_value=5)

    sklearn_image = image_uris.retrieve(framework="sklearn", region=region, version="1.2-1", py_version="py3")
    sklearn_processor = ScriptProcessor(
        image_uri=sklearn_image, command=["python3"], instance_type="ml.m5.xlarge", instance_count=1, role=ROLE,
        base_job_name="abalone-preprocess", sagemaker_session=session,
    )  # fmt: skip
    step_process = ProcessingStep(
        name="Preprocess",
        step_args=sklearn_processor.run(
            inputs=[processing_input("input", input_data, "/opt/ml/processing/input")],
            outputs=[
                processing_output(name, f"/opt/ml/processing/{name}", f"s3://{bucket}/abalone/preprocess/{name}")
                for name in ("train", "validation", "test", "batch")
            ],
            code=f"{code_dir}/preprocess.py",
        ),
        cache_config=cache,
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs

    image_uri = image_uris.retrieve(framework="xgboost", region=region, version="1.0-1", py_version="py3")
    trainer = ModelTrainer(
        training_image=image_uri, role=ROLE, compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{bucket}/abalone/model"),
        hyperparameters={
            "objective": "reg:linear", "num_round": 50, "max_depth": max_depth, "eta": eta, "gamma": 4,
            "min_child_weight": 6, "subsample": 0.7,
        },
        base_job_name="abalone-train", sagemaker_session=session,
    )  # fmt: skip
    step_train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name=name, data_source=outputs[name].S3Output.S3Uri, content_type="text/csv")
                for name in ("train", "validation")
            ]
        ),
        cache_config=cache,
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    # A script-mode ModelTrainer beside it: the SDK's own drivers run train.py in the image.
    ridge = ModelTrainer(
        training_image=sklearn_image, role=ROLE, compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        source_code=SourceCode(source_dir=RIDGE_SOURCE, entry_script="train.py"), hyperparameters={"alpha": 0.5},
        base_job_name="abalone-ridge", sagemaker_session=session,
    )  # fmt: skip
    step_ridge = TrainingStep(
        name="TrainRidge",
        step_args=ridge.train(
            input_data_config=[
                InputData(channel_name=name, data_source=outputs[name].S3Output.S3Uri)
                for name in ("train", "validation")
            ]
        ),
    )

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=image_uri, command=["python3"], instance_type="ml.m5.xlarge", instance_count=1, role=ROLE,
        base_job_name="abalone-evaluate", sagemaker_session=session,
    )  # fmt: skip
    step_eval = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            inputs=[
                processing_input("model", model_data, "/opt/ml/processing/model"),
                processing_input("test", outputs["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[
                processing_output("evaluation", "/opt/ml/processing/evaluation", f"s3://{bucket}/abalone/evaluation")
            ],
            code=f"{code_dir}/evaluate.py",
        ),
        property_files=[evaluation_report],
    )

    evaluation_uri = step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(on="/", values=[evaluation_uri, "evaluation.json"]), content_type="application/json"
        )
    )
    model = {"image_uri": image_uri, "s3_model_data_url": model_data, "role_arn": ROLE, "sagemaker_session": session}
    registered = ModelBuilder(**model)
    step_register = ModelStep(
        name="Register",
        step_args=registered.register(
            content_types=["text/csv"], response_types=["text/csv"], inference_instances=["ml.t2.medium"],
            transform_instances=["ml.m5.large"], model_package_group_name="AbaloneModels",
            approval_status="PendingManualApproval", model_metrics=metrics,
        ),
    )  # fmt: skip
    step_create = ModelStep(name="CreateModel", step_args=ModelBuilder(**model).build())
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
        name="abalone-real-sdk-v3",
        parameters=[input_data, mse_threshold, eta, max_depth],
        steps=[step_process, step_train, step_ridge, step_eval, step_check],
        sagemaker_session=session,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("code_dir")
    parser.add_argument("--select")
    parser.add_argument("--eta", type=float)
    parser.add_argument("--mse-threshold", type=float)
    args = parser.parse_args()

    session = PipelineSession()
    input_uri = S3Uploader.upload(
        args.data, f"s3://{session.default_bucket()}/abalone/input", sagemaker_session=session
    )
    pipeline = build(session, input_uri, args.code_dir)
    pipeline.upsert(role_arn=ROLE)
    parameters = {"Eta": args.eta, "MseThreshold": args.mse_threshold}
    parameters = {name: value for name, value in parameters.items() if value is not None}
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
