"""Reading the local store from the workflow classes: the store of a session, and the steps of
an execution's definition as the engine compiles them (condition branches included)."""

import json
from typing import Any, Dict, List


def _default_session():
    from sagepipe.workflow.pipeline_context import PipelineSession

    return PipelineSession()


def _store_of(session):
    store = getattr(session, "store", None)
    if store is None or not hasattr(store, "load_execution"):
        raise TypeError(
            f"{type(session).__name__} is not a sagepipe session; use sagepipe.workflow.pipeline_context."
            "PipelineSession (or call sagepipe.install() so sagemaker sessions resolve to sagepipe)"
        )
    return store


def execution_steps(store: Any, arn: str, pipeline: str) -> List[Dict[str, Any]]:
    """The steps of an execution's definition, condition branches included, as the engine
    compiles them (``name``, ``type``, ``function`` for a ``@step`` function step, ``parent``)."""
    from sagepipe import _core

    return json.loads(_core.compile_definition(store.execution_definition(arn), pipeline))["steps"]
