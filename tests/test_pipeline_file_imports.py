"""The imports and one-line calls real SageMaker pipeline files make run unchanged under `sagepipe run`.

The lines are the ones the public SageMaker pipeline examples (Abalone, MLOps templates, model
monitoring, tuning, Clarify, AutoML, EMR, @step) open with. Each runs in one script executed by
`sagepipe run`, the way users run an existing file, so `sagemaker.X` resolves to `sagepipe.X`.
"""

import json
import subprocess
import sys
import textwrap

LINES = [
    "from sagemaker.workflow.pipeline import Pipeline",
    "from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep, TuningStep, CacheConfig",
    "from sagemaker.workflow.steps import CreateModelStep, TransformInput",
    "from sagemaker.workflow.parameters import ParameterInteger, ParameterString, ParameterFloat, ParameterBoolean",
    "from sagemaker.workflow.properties import PropertyFile",
    "from sagemaker.workflow.functions import JsonGet, Join",
    "from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo",
    "from sagemaker.workflow.condition_step import ConditionStep",
    "from sagemaker.workflow.fail_step import FailStep",
    "from sagemaker.workflow.model_step import ModelStep",
    "from sagemaker.workflow.step_collections import RegisterModel, EstimatorTransformer",
    "from sagemaker.workflow.pipeline_context import PipelineSession, LocalPipelineSession",
    "from sagemaker.workflow.execution_variables import ExecutionVariables",
    "from sagemaker.workflow.check_job_config import CheckJobConfig",
    "from sagemaker.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep",
    "from sagemaker.workflow.quality_check_step import ModelQualityCheckConfig",
    "from sagemaker.workflow.clarify_check_step import DataBiasCheckConfig, ClarifyCheckStep, ModelBiasCheckConfig",
    "from sagemaker.model_monitor import DatasetFormat",
    "from sagemaker.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig, SHAPConfig",
    "from sagemaker.drift_check_baselines import DriftCheckBaselines",
    "from sagemaker.model_metrics import MetricsSource, ModelMetrics, FileSource",
    "from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor, FrameworkProcessor",
    "from sagemaker.sklearn.processing import SKLearnProcessor",
    "from sagemaker.sklearn.estimator import SKLearn",
    "from sagemaker.sklearn.model import SKLearnModel",
    "from sagemaker.xgboost.estimator import XGBoost",
    "from sagemaker.xgboost.processing import XGBoostProcessor",
    "from sagemaker.pytorch import PyTorch, PyTorchModel, PyTorchProcessor",
    "from sagemaker.tensorflow import TensorFlow, TensorFlowModel",
    "from sagemaker.huggingface import HuggingFace, HuggingFaceModel",
    "from sagemaker.estimator import Estimator",
    "from sagemaker.inputs import TrainingInput, TransformInput, CreateModelInput",
    "from sagemaker.model import Model",
    "from sagemaker.pipeline import PipelineModel",
    "from sagemaker.transformer import Transformer",
    "from sagemaker.tuner import HyperparameterTuner, ContinuousParameter, IntegerParameter, CategoricalParameter",
    "from sagemaker.workflow.lambda_step import LambdaStep, LambdaOutput, LambdaOutputTypeEnum",
    "from sagemaker.lambda_helper import Lambda",
    "from sagemaker.workflow.callback_step import CallbackStep, CallbackOutput, CallbackOutputTypeEnum",
    "from sagemaker.workflow.emr_step import EMRStep, EMRStepConfig",
    "from sagemaker.workflow.function_step import step",
    "from sagemaker.workflow.selective_execution_config import SelectiveExecutionConfig",
    "from sagemaker.workflow.retry import StepRetryPolicy, StepExceptionTypeEnum, SageMakerJobStepRetryPolicy",
    "from sagemaker.workflow.parallelism_config import ParallelismConfiguration",
    "from sagemaker.workflow.pipeline_experiment_config import PipelineExperimentConfig",
    "from sagemaker.workflow.automl_step import AutoMLStep",
    "from sagemaker.automl.automl import AutoML, AutoMLInput",
    "from sagemaker.spark.processing import PySparkProcessor",
    "from sagemaker.workflow.notebook_job_step import NotebookJobStep",
    "from sagemaker.network import NetworkConfig",
    "from sagemaker.utils import name_from_base, unique_name_from_base",
    "from sagemaker import KMeans, LinearLearner, PCA",
    "import sagemaker; sagemaker.get_execution_role()",
    "import sagemaker; sagemaker.session.Session().default_bucket()",
    "from sagemaker import image_uris; image_uris.retrieve(framework='xgboost', region='us-east-1', version='1.7-1')",
    "from sagemaker.image_uris import retrieve; retrieve('kmeans', 'us-east-1')",
    "from sagemaker.workflow.pipeline_context import PipelineSession; PipelineSession().default_bucket()",
]

PROBE = textwrap.dedent(
    """
    import json, sys, traceback
    failed = {}
    for line in json.loads(sys.argv[1]):
        try:
            exec(line, {})
        except Exception as e:
            failed[line] = f"{type(e).__name__}: {e}"
    print("RESULT " + json.dumps(failed))
    """
)


def test_the_lines_real_pipeline_files_open_with_run_under_sagepipe(tmp_path):
    script = tmp_path / "pipeline_file.py"
    script.write_text(PROBE)
    proc = subprocess.run(
        [sys.executable, "-m", "sagepipe", "run", str(script), json.dumps(LINES)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert result, proc.stdout + proc.stderr
    failed = json.loads(result[-1][len("RESULT ") :])
    assert failed == {}
