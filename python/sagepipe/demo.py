"""The README's main job: the SageMaker Abalone walkthrough pipeline, run in full on this
machine (no Docker), then a Selective Execution of Train + Evaluate with new hyperparameters that
reuses Preprocess from the first run.

    python -m sagepipe.demo [--store DIR]        (or: sagepipe demo [--store DIR])

Preprocess (SKLearnProcessor, pandas + scikit-learn) -> Train (the built-in XGBoost algorithm)
-> Evaluate (ScriptProcessor writing evaluation.json, a PropertyFile) -> MSE check
(ConditionStep with JsonGet) -> register + create the model and batch-transform the test set,
or a FailStep. Both runs are recorded in the store (``--store``, else ``$SAGEPIPE_STORE``, else
``./.sagepipe``), where ``sagepipe executions abalone-demo`` lists them. Needs the demo extra:
``pip install 'sagepipe[demo]'``.
"""

import argparse
import logging
import os
import time
from typing import Optional

from sagepipe import image_uris
from sagepipe.estimator import Estimator
from sagepipe.inputs import TrainingInput
from sagepipe.model import Model
from sagepipe.model_metrics import MetricsSource, ModelMetrics
from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagepipe.session import STORE_ENV
from sagepipe.sklearn.processing import SKLearnProcessor
from sagepipe.transformer import Transformer
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionLessThanOrEqualTo
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.functions import Join, JsonGet
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession, pipeline_session_notice_hidden
from sagepipe.workflow.properties import PropertyFile
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig
from sagepipe.workflow.steps import ProcessingStep, TrainingStep, TransformStep

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "abalone.csv")
CODE = os.path.join(HERE, "demo_code")
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"


def build_pipeline(session: Optional[PipelineSession] = None, name: str = "abalone-demo") -> Pipeline:
    """The Abalone pipeline of the SageMaker walkthrough, written as users write it.

    ``session`` defaults to a ``PipelineSession()`` on the default store; the scripts are the
    ones in ``sagepipe/demo_code``, the data ``sagepipe/data/abalone.csv``.
    """
    session = session or PipelineSession()
    region = session.boto_region_name
    bucket = session.default_bucket()
    input_data = ParameterString("InputData", default_value=f"file://{DATA}")
    mse_threshold = ParameterFloat("MseThreshold", default_value=6.0)
    eta = ParameterFloat("Eta", default_value=0.2)
    max_depth = ParameterInteger("MaxDepth", default_value=5)

    sklearn_processor = SKLearnProcessor(
        framework_version="1.2-1",
        instance_type="ml.m5.xlarge",
        instance_count=1,
        role=ROLE,
        sagemaker_session=session,
    )
    step_process = ProcessingStep(
        name="Preprocess",
        step_args=sklearn_processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name=name, source=f"/opt/ml/processing/{name}")
                for name in ("train", "validation", "test", "batch")
            ],
            code=os.path.join(CODE, "preprocess.py"),
        ),
    )
    outputs = step_process.properties.ProcessingOutputConfig.Outputs

    image_uri = image_uris.retrieve(framework="xgboost", region=region, version="1.0-1", py_version="py3")
    xgb = Estimator(
        image_uri=image_uri,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"s3://{bucket}/abalone/model",
        role=ROLE,
        sagemaker_session=session,
    )
    xgb.set_hyperparameters(
        objective="reg:linear",
        num_round=50,
        max_depth=max_depth,
        eta=eta,
        gamma=4,
        min_child_weight=6,
        subsample=0.7,
    )
    step_train = TrainingStep(
        name="Train",
        step_args=xgb.fit(
            inputs={
                "train": TrainingInput(s3_data=outputs["train"].S3Output.S3Uri, content_type="text/csv"),
                "validation": TrainingInput(s3_data=outputs["validation"].S3Output.S3Uri, content_type="text/csv"),
            }
        ),
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=image_uri,
        command=["python3"],
        instance_type="ml.m5.xlarge",
        instance_count=1,
        role=ROLE,
        sagemaker_session=session,
    )
    step_eval = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            inputs=[
                ProcessingInput(source=model_data, destination="/opt/ml/processing/model"),
                ProcessingInput(source=outputs["test"].S3Output.S3Uri, destination="/opt/ml/processing/test"),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
            code=os.path.join(CODE, "evaluate.py"),
        ),
        property_files=[evaluation_report],
    )

    model = Model(image_uri=image_uri, model_data=model_data, role=ROLE, sagemaker_session=session)
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(
                on="/",
                values=[
                    step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                    "evaluation.json",
                ],
            ),
            content_type="application/json",
        )
    )
    step_register = ModelStep(
        name="Register",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.t2.medium"],
            transform_instances=["ml.m5.large"],
            model_package_group_name="AbaloneModels",
            approval_status="PendingManualApproval",
            model_metrics=metrics,
        ),
    )
    step_create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=step_create.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"s3://{bucket}/abalone/transform",
        sagemaker_session=session,
    )
    step_transform = TransformStep(
        name="Transform",
        step_args=transformer.transform(data=outputs["batch"].S3Output.S3Uri, content_type="text/csv"),
    )
    step_fail = FailStep(
        name="MseTooHigh",
        error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold]),
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
        name=name,
        parameters=[input_data, mse_threshold, eta, max_depth],
        steps=[step_process, step_train, step_eval, step_check],
        sagemaker_session=session,
    )


def report(title: str, execution, seconds: float) -> None:
    """The execution's status and one row per step: name, status, duration or where it was reused from."""
    desc = execution.describe()
    print(f"\n{title}: {desc['PipelineExecutionStatus']} in {seconds:.2f} s  ({execution.arn})")
    steps = sorted(execution.list_steps(), key=lambda s: s["StartTime"])
    name_width = max(len(s["StepName"]) for s in steps)
    status_width = max(len(s["StepStatus"]) for s in steps)
    for s in steps:
        if s.get("SelectiveExecutionResult"):
            # Its times are the reference run's: no duration of this run to show.
            took = "reused from " + s["SelectiveExecutionResult"]["SourcePipelineExecutionArn"].rsplit("/", 1)[-1]
        else:
            took = f"{(s['EndTime'] - s['StartTime']).total_seconds():6.2f} s" if s.get("EndTime") else ""
            if s.get("FailureReason"):
                took += "  " + s["FailureReason"].splitlines()[0]
        print(f"  {s['StepName']:<{name_width}}  {s['StepStatus']:<{status_width}}  {took}".rstrip())


def mse_of(execution) -> float:
    import json

    session = execution.sagemaker_session
    for s in json.loads(session.store.load_steps(execution.arn)):
        if s["StepName"] == "Evaluate":
            uri = s["Properties"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
            with open(os.path.join(session.store.uri_to_path(uri), "evaluation.json")) as f:
                return json.load(f)["regression_metrics"]["mse"]["value"]
    raise LookupError("no Evaluate step in this execution")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sagepipe.demo",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
    )
    parser.add_argument(
        "--store",
        metavar="DIR",
        help=f"store directory the runs are recorded in (default: ${STORE_ENV}, else ./.sagepipe)",
    )
    args = parser.parse_args(argv)
    # The SDK's definition-time notices (job names popped from the definition) are expected
    # here; keep the demo's output to what it shows.
    logging.getLogger("sagepipe").setLevel(logging.ERROR)
    session = PipelineSession(store=args.store)
    with pipeline_session_notice_hidden():
        pipeline = build_pipeline(session)
    print(f"store: {session.store_root}")

    t = time.perf_counter()
    full = pipeline.start()
    full.wait()
    report("full run", full, time.perf_counter() - t)
    if full.describe()["PipelineExecutionStatus"] != "Succeeded":
        return 1
    print(f"  test MSE: {mse_of(full):.3f}")

    config = SelectiveExecutionConfig(source_pipeline_execution_arn=full.arn, selected_steps=["Train", "Evaluate"])
    parameters = pipeline.build_parameters_from_execution(full.arn, {"Eta": 0.1, "MaxDepth": 4})
    print("\n" + str(pipeline.plan(selective_execution_config=config, parameters=parameters)))
    t = time.perf_counter()
    rerun = pipeline.start(selective_execution_config=config, parameters=parameters)
    rerun.wait()
    report("selective re-run of Train + Evaluate with Eta=0.1, MaxDepth=4", rerun, time.perf_counter() - t)
    if rerun.describe()["PipelineExecutionStatus"] != "Succeeded":
        return 1
    print(f"  test MSE: {mse_of(rerun):.3f}")
    store_option = "" if args.store is None else f" --store {args.store}"
    print(f"\nBoth runs are recorded in {session.store_root}; look at them with:")
    print(f"  sagepipe executions {pipeline.name}{store_option}")
    print(f"  sagepipe steps {rerun.arn}{store_option}")
    print(f"  sagepipe logs {rerun.arn} Train{store_option}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
