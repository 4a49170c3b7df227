"""Pipelines of framework, Data Wrangler and Spark processors, built with either SDK.

``build(root, session)`` imports every class from ``root`` (``"sagemaker"`` for the real SDK v2,
``"sagepipe"`` for the mirror), so ``fixtures/framework_processors/gen_sdk.py`` and
``test_framework_processors.py`` build the very same pipeline. Code paths are relative to the
folder ``write_sources`` filled (callers chdir there), so the ``code/<sha256>`` prefixes match.
"""

import importlib
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "framework_processors"
ROLE = "arn:aws:iam::111111111111:role/ProcessingRole"
BUCKET = "fw-bucket"

SOURCES = {
    "src/process.py": "import sys\n\nfrom helper import shout\n\nprint(shout(sys.argv[1:]))\n",
    "src/helper.py": "def shout(words):\n    return ' '.join(words).upper()\n",
    "lib/util.py": "ANSWER = 42\n",
    "spark/app.py": "from udfs import clean\n\nprint(clean(' x '))\n",
    "spark/udfs.py": "def clean(text):\n    return text.strip()\n",
}


def write_sources(root: Path) -> None:
    """Write the processors' code under ``root``."""
    for rel, text in SOURCES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _import(root: str, module: str, *names):
    mod = importlib.import_module(f"{root}.{module}")
    return [getattr(mod, n) for n in names]


def build(root: str, session):
    """Framework (SKLearn, XGBoost), Data Wrangler and Spark processor steps in one pipeline."""
    (Pipeline,) = _import(root, "workflow.pipeline", "Pipeline")
    (ProcessingStep,) = _import(root, "workflow.steps", "ProcessingStep")
    (ParameterString,) = _import(root, "workflow.parameters", "ParameterString")
    FrameworkProcessor, ProcessingInput, ProcessingOutput = _import(
        root, "processing", "FrameworkProcessor", "ProcessingInput", "ProcessingOutput"
    )
    (SKLearn,) = _import(root, "sklearn.estimator", "SKLearn")
    (XGBoostProcessor,) = _import(root, "xgboost.processing", "XGBoostProcessor")
    (DataWranglerProcessor,) = _import(root, "wrangler.processing", "DataWranglerProcessor")
    PySparkProcessor, SparkJarProcessor = _import(root, "spark.processing", "PySparkProcessor", "SparkJarProcessor")

    common = dict(role=ROLE, instance_type="ml.m5.xlarge", instance_count=1, sagemaker_session=session)
    raw = ParameterString(name="RawData", default_value=f"s3://{BUCKET}/raw/")
    extra_jar = ParameterString(name="ExtraJar", default_value=f"s3://{BUCKET}/extra.jar")
    sk = FrameworkProcessor(
        estimator_cls=SKLearn, framework_version="1.2-1", env={"MODE": "full"}, tags={"team": "data"}, **common
    )
    prep = ProcessingStep(
        name="Prep",
        step_args=sk.run(
            code="process.py",
            source_dir="src",
            arguments=["--split", "0.2"],
            inputs=[ProcessingInput(source=raw, destination="/opt/ml/processing/input")],
            outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
        ),
    )
    s3_code = ProcessingStep(
        name="FromS3",
        step_args=sk.run(code=f"s3://{BUCKET}/scripts/run.sh", arguments=["now"]),
    )
    xgb = XGBoostProcessor(framework_version="1.7-1", base_job_name="xgb-prep", max_runtime_in_seconds=600, **common)
    features = ProcessingStep(
        name="Features",
        step_args=xgb.run(
            code="process.py",
            source_dir="src",
            dependencies=["lib"],
            inputs=[
                ProcessingInput(
                    source=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                    destination="/opt/ml/processing/train",
                )
            ],
            outputs=[ProcessingOutput(output_name="features", source="/opt/ml/processing/features")],
        ),
    )
    wrangle = ProcessingStep(
        name="Wrangle",
        step_args=DataWranglerProcessor(data_wrangler_flow_source=f"s3://{BUCKET}/prep.flow", **common).run(
            outputs=[ProcessingOutput(output_name="wrangled", source="/opt/ml/processing/output")]
        ),
    )
    pyspark = ProcessingStep(
        name="PySpark",
        step_args=PySparkProcessor(framework_version="3.3", **common).run(
            submit_app="spark/app.py",
            submit_py_files=["spark/udfs.py"],
            submit_files=[f"s3://{BUCKET}/lookup.csv"],
            arguments=["--input", raw],
            configuration=[{"Classification": "spark-defaults", "Properties": {"spark.executor.memory": "2g"}}],
            spark_event_logs_s3_uri=f"s3://{BUCKET}/spark-events",
        ),
    )
    jar = ProcessingStep(
        name="SparkJar",
        step_args=SparkJarProcessor(framework_version="3.5", **common).run(
            submit_app=f"s3://{BUCKET}/app.jar",
            submit_class="com.example.App",
            submit_jars=[f"s3://{BUCKET}/dep.jar", extra_jar],
        ),
    )
    return Pipeline(
        name="FrameworkProcessors",
        parameters=[raw, extra_jar],
        steps=[prep, s3_code, features, wrangle, pyspark, jar],
        sagemaker_session=session,
    )


def build_deep_learning(root: str, session):
    """PyTorch, TensorFlow, MXNet and Hugging Face processor steps on the same source dir."""
    (Pipeline,) = _import(root, "workflow.pipeline", "Pipeline")
    (ProcessingStep,) = _import(root, "workflow.steps", "ProcessingStep")
    (PyTorchProcessor,) = _import(root, "pytorch.processing", "PyTorchProcessor")
    (TensorFlowProcessor,) = _import(root, "tensorflow.processing", "TensorFlowProcessor")
    (MXNetProcessor,) = _import(root, "mxnet.processing", "MXNetProcessor")
    (HuggingFaceProcessor,) = _import(root, "huggingface.processing", "HuggingFaceProcessor")

    common = dict(role=ROLE, instance_count=1, sagemaker_session=session)
    processors = {
        "Torch": PyTorchProcessor(framework_version="2.1", py_version="py310", instance_type="ml.m5.xlarge", **common),
        "TF": TensorFlowProcessor(framework_version="2.13", py_version="py310", instance_type="ml.m5.xlarge", **common),
        "MX": MXNetProcessor(framework_version="1.9.0", py_version="py38", instance_type="ml.m5.xlarge", **common),
        "HF": HuggingFaceProcessor(
            transformers_version="4.28",
            pytorch_version="2.0",
            py_version="py310",
            instance_type="ml.g4dn.xlarge",
            **common,
        ),
    }
    steps = [
        ProcessingStep(name=name, step_args=proc.run(code="process.py", source_dir="src", arguments=["a", "b"]))
        for name, proc in processors.items()
    ]
    return Pipeline(name="DeepLearningProcessors", steps=steps, sagemaker_session=session)
