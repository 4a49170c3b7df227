"""What a ``@step`` function step returned, or the exception it raised, read back from where
the engine recorded its results (the step record's ``FunctionResultsUri``)."""

import os
from typing import Any, Dict

from sagepipe.exceptions import StepFailedError


def step_result(store: Any, rec: Dict[str, Any]) -> Any:
    """The unpickled return value of the function step of record ``rec``; for a step that did not
    succeed, its original exception raised again (when it could be unpickled), else a
    ``StepFailedError`` with the traceback."""
    import cloudpickle

    from sagepipe._s3_objects import open_object
    from sagepipe.remote_function.core.serialization import CloudpickleSerializer
    from sagepipe.workflow._function_payload import EXCEPTION_FILE, RESULT_FILE

    step_name = rec["StepName"]
    # Absent when the step's arguments did not resolve. Records written before the engine recorded
    # it have the resolved request's output path in their properties (when the step succeeded).
    uri = rec.get("FunctionResultsUri") or ((rec.get("Properties") or {}).get("OutputDataConfig") or {}).get(
        "S3OutputPath"
    )
    results_dir = str(store.uri_to_path(uri)) if uri else None
    if rec["StepStatus"] != "Succeeded":
        error = rec.get("Error") or {}
        exc_path = os.path.join(results_dir, EXCEPTION_FILE) if results_dir else None
        original = None
        if exc_path and os.path.exists(exc_path):
            try:
                with open(exc_path, "rb") as f:
                    original = cloudpickle.load(f)
            except Exception:  # noqa: BLE001 - e.g. an exception whose __init__ takes other arguments
                original = None
        if isinstance(original, BaseException):
            raise original from StepFailedError(
                f"step '{step_name}' failed:\n{error.get('traceback') or rec.get('FailureReason')}"
            )
        what = f" with {error['type']}" if error.get("type") else ""
        detail = error.get("traceback") or rec.get("FailureReason")
        raise StepFailedError(f"step '{step_name}' {rec['StepStatus'].lower()}{what}: {detail}")
    if uri is None or results_dir is None:  # a Succeeded function step always has its results location
        raise StepFailedError(f"step '{step_name}' succeeded but its record names no results location")
    result_uri = f"{uri.rstrip('/')}/{RESULT_FILE}"
    with open_object(store, result_uri) as f:
        return CloudpickleSerializer.deserialize(result_uri, f.read())
