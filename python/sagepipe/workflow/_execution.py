"""The service side of ``Pipeline`` and ``_PipelineExecution``, backed by the local store and
engine instead of the SageMaker API (response shapes are boto3's). Each job has its module:

- ``_interrupts``: Ctrl-C and interpreter exit for the executions this process runs;
- ``_execution_handle``: ``_PipelineExecution`` (describe, steps, wait, stop, result, logs);
- ``_step_results``: a function step's result or exception, read back from the store;
- ``_pipeline_service``: ``_PipelineService`` (create, update, upsert, start, plan...);
- ``_execution_plan``: ``ExecutionPlan``, what a start would do per step;
- ``_store_access``: the store of a session, and an execution's steps as the engine compiles them.

This module keeps the names other modules import from it.
"""

from sagepipe.exceptions import ResourceNotFoundError
from sagepipe.workflow._execution_handle import _PipelineExecution
from sagepipe.workflow._execution_plan import ExecutionPlan
from sagepipe.workflow._interrupts import (
    STOP_GRACE,
    _interrupted,
    _store_roots,
    interactive,
    report_interrupt,
    settle_interrupted,
)
from sagepipe.workflow._pipeline_service import _PipelineService
from sagepipe.workflow._store_access import _default_session, _store_of

__all__ = ["_PipelineExecution", "_PipelineService", "ResourceNotFoundError"]
__all__ += [  # also importable from here, as before the split
    "ExecutionPlan",
    "STOP_GRACE",
    "_default_session",
    "_interrupted",
    "_store_of",
    "_store_roots",
    "interactive",
    "report_interrupt",
    "settle_interrupted",
]
