"""sagepipe: run Amazon SageMaker Pipelines locally.

Mirror of the SageMaker Python SDK v2 ``sagemaker.workflow`` API: build a pipeline with
``sagepipe.workflow`` (same module paths, classes and definition JSON as the SDK), then
``pipeline.start()`` runs it on this machine, steps in parallel, every run recorded in a local
store, with Selective Execution of chosen steps.
"""

__version__ = "0.1.0"

from sagepipe.exceptions import SagePipeError  # noqa: E402

__all__ = ["SagePipeError", "__version__"]
