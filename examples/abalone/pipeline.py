"""The Abalone example project's pipeline: the SageMaker Abalone walkthrough (SKLearn
preprocessing, built-in XGBoost training, evaluation with a PropertyFile, an MSE condition, model
registration and batch transform, or a FailStep).

From the repository root:

    sagepipe run examples/abalone/pipeline.py:pipeline -p MaxDepth=4
    sagepipe plan examples.abalone.pipeline:build --select Train

Parameters: ``InputData`` (the CSV, default the UCI Abalone data the package ships),
``MseThreshold`` (6.0), ``Eta`` (0.2), ``MaxDepth`` (5). The definition lives in
``sagepipe.demo.build_pipeline``, shipped with the package so that ``sagepipe demo`` runs from any
installation; the scripts it runs are ``python/sagepipe/demo_code/preprocess.py`` and
``evaluate.py``. This project's pipeline is named ``abalone``, the demo's ``abalone-demo``, so
their runs are listed apart.
"""

from sagepipe.demo import build_pipeline
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession


def build(session: PipelineSession = None) -> Pipeline:
    """The pipeline, on ``session`` (default: a ``PipelineSession()`` on the default store)."""
    return build_pipeline(session, name="abalone")


pipeline = build()
