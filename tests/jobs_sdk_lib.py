"""The pipelines of the SDK-generated golden definitions, written with sagepipe.

Each builder mirrors a generator: ``abalone``/``minimal``/``tuning_model_transform`` the ones in
``/work/shared/reference/definitions/generators`` (fixtures in ``fixtures/definitions``),
``script_mode``/``legacy_forms`` ``fixtures/sdk_jobs/gen_sdk_jobs.py``. Code paths are passed
relative to the folder the generator ran in, so the ``code/<sha256>`` prefixes come out the same;
callers chdir there first (see ``ABALONE_DIR`` / ``SDK_JOBS_DIR``).
"""

from pathlib import Path

from sagepipe import image_uris
from sagepipe.drift_check_baselines import DriftCheckBaselines
from sagepipe.estimator import Estimator
from sagepipe.inputs import CreateModelInput, TrainingInput, TransformInput
from sagepipe.model import Model
from sagepipe.model_metrics import MetricsSource, ModelMetrics
from sagepipe.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput, Processor, ScriptProcessor
from sagepipe.sklearn import SKLearn, SKLearnProcessor
from sagepipe.transformer import Transformer
from sagepipe.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import (
    ConditionEquals,
    ConditionGreaterThan,
    ConditionIn,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
)
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.functions import Join, JsonGet
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterInteger, ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.properties import PropertyFile
from sagepipe.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagepipe.workflow.step_collections import RegisterModel
from sagepipe.workflow.steps import (
    CacheConfig,
    CreateModelStep,
    ProcessingStep,
    TrainingStep,
    TransformStep,
    TuningStep,
)
from sagepipe.xgboost import XGBoost

FIXTURES = Path(__file__).parent / "fixtures"
SDK_JOBS_DIR = FIXTURES / "sdk_jobs"
ABALONE_DIR = SDK_JOBS_DIR / "abalone"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-image:latest"


def abalone(sess) -> Pipeline:
    """``gen_abalone.py`` (run from ``ABALONE_DIR``)."""
    input_data = ParameterString(name="InputData", default_value="s3://my-bucket/abalone/abalone.csv")
    instance_type = ParameterString(
        name="TrainingInstanceType", default_value="ml.m5.xlarge", enum_values=["ml.m5.xlarge", "ml.m5.2xlarge"]
    )
    instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    skip_eval = ParameterBoolean(name="SkipEval", default_value=False)
    cache = CacheConfig(enable_caching=True, expire_after="P30D")
    processor = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=instance_count,
        base_job_name="abalone-process",
        sagemaker_session=sess,
    )
    step_process = ProcessingStep(
        name="AbaloneProcess",
        display_name="Preprocess abalone",
        description="Split raw data",
        step_args=processor.run(
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
            ],
            code="code/preprocess.py",
        ),
        cache_config=cache,
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING], max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
                interval_seconds=10,
                backoff_rate=2.0,
                expire_after_mins=60,
            ),
        ],
    )
    estimator = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_type=instance_type,
        instance_count=1,
        output_path=Join(on="/", values=["s3://my-bucket", ExecutionVariables.PIPELINE_EXECUTION_ID, "model"]),
        sagemaker_session=sess,
        disable_profiler=True,
    )
    estimator.set_hyperparameters(max_depth=5, num_round=50)
    step_train = TrainingStep(
        name="AbaloneTrain",
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(
                    s3_data=step_process.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                    content_type="text/csv",
                )
            }
        ),
        cache_config=CacheConfig(enable_caching=False),
    )
    eval_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        base_job_name="abalone-eval",
        sagemaker_session=sess,
    )
    step_eval = ProcessingStep(
        name="AbaloneEval",
        step_args=evaluator.run(
            inputs=[
                ProcessingInput(
                    source=step_train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/model",
                ),
                ProcessingInput(
                    source=step_process.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
                    destination="/opt/ml/processing/test",
                ),
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
            code="code/evaluate.py",
        ),
        property_files=[eval_report],
    )
    mse = JsonGet(step_name=step_eval.name, property_file=eval_report, json_path="regression_metrics.mse.value")
    step_fail = FailStep(
        name="AbaloneMSEFail", error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold])
    )
    step_cond = ConditionStep(
        name="AbaloneMSECond",
        conditions=[
            ConditionLessThanOrEqualTo(left=mse, right=mse_threshold),
            ConditionOr(
                conditions=[
                    ConditionEquals(left=skip_eval, right=False),
                    ConditionIn(value=instance_type, in_values=["ml.m5.xlarge", "ml.m5.2xlarge"]),
                ]
            ),
            ConditionNot(
                expression=ConditionGreaterThan(
                    left=step_train.properties.FinalMetricDataList["validation:mse"].Value, right=100
                )
            ),
        ],
        if_steps=[],
        else_steps=[step_fail],
        depends_on=[step_eval],
    )
    return Pipeline(
        name="AbalonePipeline",
        parameters=[input_data, instance_type, instance_count, mse_threshold, skip_eval],
        steps=[step_process, step_train, step_eval, step_cond],
        sagemaker_session=sess,
    )


def minimal(sess, legacy: bool = False) -> Pipeline:
    """``gen_minimal.py``; ``legacy=True`` builds the same steps with the ``processor=``/``estimator=`` forms."""
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1"
    threshold = ParameterFloat(name="MaxLoss", default_value=0.5)
    raw = ParameterString(name="RawData", default_value="s3://my-bucket/raw/")
    report = PropertyFile(name="Metrics", output_name="metrics", path="metrics.json")
    processor = Processor(
        image_uri=image,
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3", "/opt/program/prep.py"],
        sagemaker_session=sess,
    )
    outputs = [
        ProcessingOutput(
            output_name="train", source="/opt/ml/processing/train", destination="s3://my-bucket/prep/train"
        ),
        ProcessingOutput(
            output_name="metrics", source="/opt/ml/processing/metrics", destination="s3://my-bucket/prep/metrics"
        ),
    ]
    cache = CacheConfig(enable_caching=True, expire_after="PT12H")
    if legacy:
        prep = ProcessingStep(
            name="Prep",
            processor=processor,
            job_arguments=["--input", raw],
            outputs=outputs,
            property_files=[report],
            cache_config=cache,
        )
    else:
        prep = ProcessingStep(
            name="Prep",
            step_args=processor.run(arguments=["--input", raw], outputs=outputs),
            property_files=[report],
            cache_config=cache,
        )
    estimator = Estimator(
        image_uri=image,
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/model",
        sagemaker_session=sess,
        disable_profiler=True,
        debugger_hook_config=False,
    )
    train_inputs = {"train": TrainingInput(prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri)}
    retry = [StepRetryPolicy(exception_types=[StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=2)]
    if legacy:
        train = TrainingStep(name="Train", estimator=estimator, inputs=train_inputs, retry_policies=retry)
    else:
        train = TrainingStep(name="Train", step_args=estimator.fit(inputs=train_inputs), retry_policies=retry)
    fail = FailStep(name="LossTooHigh", error_message=Join(on=" ", values=["loss above", threshold]))
    check = ConditionStep(
        name="CheckLoss",
        conditions=[
            ConditionLessThanOrEqualTo(
                left=JsonGet(step_name="Prep", property_file=report, json_path="loss"), right=threshold
            )
        ],
        if_steps=[],
        else_steps=[fail],
        depends_on=[train],
    )
    return Pipeline(
        name="MiniPipeline", parameters=[threshold, raw], steps=[prep, train, check], sagemaker_session=sess
    )


def tuning_model_transform(sess) -> Pipeline:
    """``gen_tuning_model_transform.py``."""
    approval = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")
    est = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path="s3://my-bucket/out",
        sagemaker_session=sess,
        disable_profiler=True,
    )
    tuner = HyperparameterTuner(
        estimator=est,
        objective_metric_name="validation:rmse",
        objective_type="Minimize",
        hyperparameter_ranges={"eta": ContinuousParameter(0.1, 0.5), "max_depth": IntegerParameter(3, 8)},
        metric_definitions=[{"Name": "validation:rmse", "Regex": "rmse=([0-9.]+)"}],
        max_jobs=4,
        max_parallel_jobs=2,
    )
    step_tune = TuningStep(name="Tune", step_args=tuner.fit(inputs={"train": TrainingInput("s3://my-bucket/train")}))
    model = Model(
        image_uri=IMAGE,
        model_data=step_tune.get_top_model_s3_uri(top_k=0, s3_bucket="my-bucket", prefix="out"),
        role=ROLE,
        sagemaker_session=sess,
    )
    step_create = ModelStep(name="BestModel", step_args=model.create(instance_type="ml.m5.large"))
    step_register = ModelStep(
        name="RegBest",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name="MyGroup",
            approval_status=approval,
        ),
    )
    transformer = Transformer(
        model_name=step_create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://my-bucket/batch",
        sagemaker_session=sess,
    )
    step_transform = TransformStep(
        name="BatchScore", step_args=transformer.transform(data="s3://my-bucket/batch-in", content_type="text/csv")
    )
    return Pipeline(
        name="TuneModelTransform",
        parameters=[approval],
        steps=[step_tune, step_create, step_register, step_transform],
        sagemaker_session=sess,
    )


def script_mode(sess) -> Pipeline:
    """``gen_sdk_jobs.py::script_mode`` (run from ``SDK_JOBS_DIR``)."""
    raw = ParameterString(name="RawData", default_value="s3://my-bucket/raw/data.csv")
    sk_proc = SKLearnProcessor(
        framework_version="1.2-1", role=ROLE, instance_type="ml.m5.xlarge", instance_count=1, sagemaker_session=sess
    )
    prep = ProcessingStep(
        name="Prep",
        step_args=sk_proc.run(
            code="code/preprocess.py",
            inputs=[ProcessingInput(source=raw, destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="test", source="/opt/ml/processing/test"),
            ],
            arguments=["--split", "0.2"],
        ),
    )
    fw_proc = FrameworkProcessor(
        estimator_cls=SKLearn,
        framework_version="1.2-1",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    feat = ProcessingStep(
        name="Features",
        step_args=fw_proc.run(
            code="train.py",
            source_dir="code/src",
            inputs=[
                ProcessingInput(
                    source=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                    destination="/opt/ml/processing/train",
                )
            ],
            outputs=[ProcessingOutput(output_name="features", source="/opt/ml/processing/features")],
        ),
    )
    sk = SKLearn(
        entry_point="train.py",
        source_dir="code/src",
        framework_version="1.2-1",
        instance_type="ml.m5.large",
        role=ROLE,
        hyperparameters={"alpha": 0.5, "name": "x"},
        sagemaker_session=sess,
        disable_profiler=True,
    )
    sk.set_hyperparameters(epochs=3)
    train_sk = TrainingStep(
        name="TrainSK",
        step_args=sk.fit(
            inputs={
                "train": TrainingInput(
                    s3_data=feat.properties.ProcessingOutputConfig.Outputs["features"].S3Output.S3Uri
                )
            }
        ),
    )
    xgb = XGBoost(
        entry_point="code/train.py",
        framework_version="1.7-1",
        instance_type="ml.m5.large",
        instance_count=1,
        role=ROLE,
        sagemaker_session=sess,
        disable_profiler=True,
        hyperparameters={"num_round": 10},
    )
    train_xgb = TrainingStep(
        name="TrainXGB",
        step_args=xgb.fit(
            inputs=TrainingInput(
                s3_data=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri, content_type="text/csv"
            )
        ),
    )
    builtin = Estimator(
        image_uri=image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=sess,
        metric_definitions=[{"Name": "rmse", "Regex": "rmse=([0-9.]+)"}],
        environment={"A": "1"},
        max_run=3600,
        base_job_name="builtin",
    )
    builtin.set_hyperparameters(objective="reg:squarederror", num_round=7)
    train_builtin = TrainingStep(name="TrainBuiltin", step_args=builtin.fit(inputs="s3://my-bucket/train/"))
    model = Model(
        image_uri=image_uris.retrieve("sklearn", "us-east-1", "1.2-1"),
        model_data=train_sk.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        entry_point="inference.py",
        source_dir="code/serve",
        sagemaker_session=sess,
    )
    create = ModelStep(name="SKModel", step_args=model.create(instance_type="ml.m5.large"))
    plain = Model(
        image_uri=IMAGE,
        model_data=train_xgb.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=sess,
        env={"K": "V"},
    )
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(
                on="/",
                values=[prep.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri, "evaluation.json"],
            ),
            content_type="application/json",
        )
    )
    baselines = DriftCheckBaselines(
        model_statistics=MetricsSource(s3_uri="s3://my-bucket/baseline/stats.json", content_type="application/json")
    )
    register = ModelStep(
        name="RegXGB",
        step_args=plain.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name="Group",
            model_metrics=metrics,
            drift_check_baselines=baselines,
            approval_status="Approved",
            customer_metadata_properties={"k": "v"},
            description="xgb model",
        ),
    )
    plain_create = ModelStep(name="XGBModel", step_args=plain.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=plain_create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=sess,
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
    )
    batch = TransformStep(
        name="Batch",
        step_args=transformer.transform(
            data=prep.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri,
            content_type="text/csv",
            split_type="Line",
            join_source="Input",
        ),
    )
    return Pipeline(
        name="ScriptMode",
        parameters=[raw],
        steps=[prep, feat, train_sk, train_xgb, train_builtin, create, register, plain_create, batch],
        sagemaker_session=sess,
    )


def legacy_forms(sess) -> Pipeline:
    """``gen_sdk_jobs.py::legacy_forms``."""
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    proc = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    prep = ProcessingStep(
        name="Prep",
        processor=proc,
        inputs=[ProcessingInput(source="s3://my-bucket/raw", destination="/opt/ml/processing/input")],
        outputs=[
            ProcessingOutput(
                output_name="report", source="/opt/ml/processing/report", destination="s3://my-bucket/report"
            )
        ],
        job_arguments=["--x", "1"],
        code="s3://my-bucket/scripts/preprocess.py",
        property_files=[report],
    )
    est = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://my-bucket/models",
        sagemaker_session=sess,
        disable_profiler=True,
    )
    est.set_hyperparameters(depth=3)
    train = TrainingStep(name="Train", estimator=est, inputs={"train": TrainingInput(s3_data="s3://my-bucket/train")})
    model = Model(
        image_uri=IMAGE,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=sess,
    )
    create = CreateModelStep(name="Create", model=model, inputs=CreateModelInput(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://my-bucket/out",
        sagemaker_session=sess,
    )
    batch = TransformStep(
        name="Batch", transformer=transformer, inputs=TransformInput(data="s3://my-bucket/in", content_type="text/csv")
    )
    register = RegisterModel(
        name="Register",
        estimator=est,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name="Group",
        approval_status="PendingManualApproval",
    )
    return Pipeline(name="Legacy", steps=[prep, train, create, batch, register], sagemaker_session=sess)
