"""sagepipe: run Amazon SageMaker Pipelines locally.

Mirror of the SageMaker Python SDK v2 ``sagemaker.workflow`` API: build a pipeline with
``sagepipe.workflow`` (same module paths, classes and definition JSON as the SDK), then
``pipeline.start()`` runs it on this machine, steps in parallel, every run recorded in a local
store, with Selective Execution of chosen steps.

Entry points beyond the SDK mirror: ``sagepipe.client()`` (a boto3-shaped SageMaker client over
the store), ``sagepipe.install()`` (unchanged ``import sagemaker`` scripts run on sagepipe), the
``sagepipe`` command line, a pytest plugin and notebook rendering.
"""

__version__ = "0.1.0"

import importlib  # noqa: E402
import importlib.util  # noqa: E402
from typing import Any  # noqa: E402

from sagepipe.exceptions import SagePipeError  # noqa: E402

__all__ = ["SagePipeError", "__version__", "client", "install", "uninstall"]


def install(boto3: bool = True, *, sdk: str = "auto") -> None:
    """Run SageMaker SDK code on sagepipe (see :mod:`sagepipe.compat`).

    Args:
        boto3: Answer boto3 clients of SageMaker, S3 and STS (and, with the real SDK, its IAM
            role checks) from the local store.
        sdk: ``mirror`` (``sagemaker.X`` is ``sagepipe.X``), ``real`` (the installed SDK, v2 or v3,
            its AWS calls answered locally) or ``auto`` (``real`` when a real SDK is installed).
    """
    from sagepipe.compat import install as _install

    _install(boto3=boto3, sdk=sdk)


def uninstall() -> None:
    """Undo :func:`install`."""
    from sagepipe.compat import uninstall as _uninstall

    _uninstall()


# The names the SDK's `sagemaker/__init__.py` exports, so `import sagemaker; sagemaker.Session()`
# works under `install()`. Resolved lazily: each lives in the module sagepipe mirrors it in.
_SDK_TOP_LEVEL = {
    "Session": "sagepipe.session",
    "get_execution_role": "sagepipe.session",
    "LocalPipelineSession": "sagepipe.workflow.pipeline_context",
    "LocalSession": "sagepipe.local",
    "Estimator": "sagepipe.estimator",
    "EstimatorBase": "sagepipe.estimator",
    "Framework": "sagepipe.estimator",
    "Model": "sagepipe.model",
    "ModelPackage": "sagepipe.model",
    "FrameworkModel": "sagepipe.model",
    "PipelineModel": "sagepipe.pipeline",
    "ModelMetrics": "sagepipe.model_metrics",
    "MetricsSource": "sagepipe.model_metrics",
    "FileSource": "sagepipe.model_metrics",
    "Processor": "sagepipe.processing",
    "ScriptProcessor": "sagepipe.processing",
    "TrainingInput": "sagepipe.inputs",
    "TransformInput": "sagepipe.inputs",
    "CreateModelInput": "sagepipe.inputs",
    "Transformer": "sagepipe.transformer",
    "ProfilerConfig": "sagepipe.debugger",
    "container_def": "sagepipe.session",
    "pipeline_container_def": "sagepipe.session",
    "get_model_package_args": "sagepipe.session",
    "get_create_model_package_request": "sagepipe.session",
    "Predictor": "sagepipe.predictor",
    "AutoML": "sagepipe.automl.automl",
    "AutoMLInput": "sagepipe.automl.automl",
    "AutoMLJob": "sagepipe.automl.automl",
    # Built-in algorithms (sagepipe.amazon)
    "KMeans": "sagepipe.amazon.kmeans",
    "KMeansModel": "sagepipe.amazon.kmeans",
    "PCA": "sagepipe.amazon.pca",
    "PCAModel": "sagepipe.amazon.pca",
    "LDA": "sagepipe.amazon.lda",
    "LDAModel": "sagepipe.amazon.lda",
    "LinearLearner": "sagepipe.amazon.linear_learner",
    "LinearLearnerModel": "sagepipe.amazon.linear_learner",
    "FactorizationMachines": "sagepipe.amazon.factorization_machines",
    "FactorizationMachinesModel": "sagepipe.amazon.factorization_machines",
    "NTM": "sagepipe.amazon.ntm",
    "NTMModel": "sagepipe.amazon.ntm",
    "RandomCutForest": "sagepipe.amazon.randomcutforest",
    "RandomCutForestModel": "sagepipe.amazon.randomcutforest",
    "KNN": "sagepipe.amazon.knn",
    "KNNModel": "sagepipe.amazon.knn",
    "Object2Vec": "sagepipe.amazon.object2vec",
    "Object2VecModel": "sagepipe.amazon.object2vec",
    "IPInsights": "sagepipe.amazon.ipinsights",
    "IPInsightsModel": "sagepipe.amazon.ipinsights",
}


def __getattr__(name: str) -> Any:
    # `sagepipe.client` is a callable module: `sagepipe.client()` builds the local client.
    if name in _SDK_TOP_LEVEL:
        try:
            return getattr(importlib.import_module(_SDK_TOP_LEVEL[name]), name)
        except (ImportError, AttributeError) as exc:
            raise AttributeError(f"module 'sagepipe' has no attribute {name!r} ({exc})") from exc
    if not name.startswith("_") and importlib.util.find_spec(f"sagepipe.{name}") is not None:
        return importlib.import_module(f"sagepipe.{name}")  # `sagemaker.image_uris` without importing it
    raise AttributeError(f"module 'sagepipe' has no attribute {name!r}")
