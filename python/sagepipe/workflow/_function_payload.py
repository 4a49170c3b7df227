"""How a ``@step`` function travels from the definition to a worker.

At definition time the function and its arguments are pickled (cloudpickle) into the store,
at ``<s3_base_uri>/<step>/<func_step_s3_dir>/function.pkl``. Pipeline variables among the
arguments (parameters, execution variables, properties, outputs of other function steps) are
replaced by placeholders; their expressions go into the step's ``--property_references``, the
engine evaluates them at run time, and the worker puts the values back in place.
"""

import hashlib
import os
from typing import Any, Dict, List, Tuple

PAYLOAD_FILE = "function.pkl"
RESULT_FILE = "payload.pkl"
EXCEPTION_FILE = "exception.pkl"
JSON_RESULTS_FILE = "results.json"
JSON_SERIALIZED_RESULT_KEY = "Result"


class _Ref:
    """Stands for a pipeline variable; replaced by the value of ``property_references[key]``."""

    def __init__(self, key: str):
        self.key = key


class _StepResultRef:
    """Stands for the output of another function step (``DelayedReturn``), optionally indexed."""

    def __init__(self, key: str, path: Tuple[Any, ...]):
        self.key = key
        self.path = path


def reference_key(expr: Any) -> str:
    """A stable text key for an expression (the SDK's ``--property_references`` names)."""
    if isinstance(expr, dict) and set(expr) == {"Get"}:
        return expr["Get"]
    return "Expr." + hashlib.sha256(repr(expr).encode()).hexdigest()[:16]


def replace_pipeline_variables(obj: Any, refs: List[Tuple[str, Any]]) -> Any:
    """Copy of ``obj`` with pipeline variables replaced by placeholders; ``refs`` collects
    ``(key, expression)`` pairs for the step's ``--property_references``."""
    from sagepipe.workflow.entities import PipelineVariable
    from sagepipe.workflow.function_step import DelayedReturn

    if isinstance(obj, DelayedReturn):
        key = f"Steps.{obj._step.name}.OutputDataConfig.S3OutputPath"
        refs.append((key, {"Std:Join": {"On": "", "Values": [{"Get": key}]}}))
        return _StepResultRef(key, tuple(obj._reference_path))
    if isinstance(obj, PipelineVariable):
        expr = obj.expr
        key = reference_key(expr)
        refs.append((key, expr))
        return _Ref(key)
    if isinstance(obj, (list, tuple)):
        items = [replace_pipeline_variables(v, refs) for v in obj]
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: replace_pipeline_variables(v, refs) for k, v in obj.items()}
    return obj


def restore_pipeline_variables(obj: Any, values: Dict[str, Any], load_result) -> Any:
    """Put run-time values in place of placeholders (inverse of ``replace_pipeline_variables``)."""
    if isinstance(obj, _StepResultRef):
        value = load_result(values[obj.key])
        for key in obj.path:
            value = value[key]
        return value
    if isinstance(obj, _Ref):
        return values[obj.key]
    if isinstance(obj, (list, tuple)):
        items = [restore_pipeline_variables(v, values, load_result) for v in obj]
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: restore_pipeline_variables(v, values, load_result) for k, v in obj.items()}
    return obj


def write_payload(payload_root: str, func, args: tuple, kwargs: dict) -> Tuple[str, List[Tuple[str, Any]]]:
    """Pickle the function and its arguments under ``payload_root/<content hash>/``.

    Returns the directory name (the step's ``--func_step_s3_dir``) and the property references.
    Content addressing makes rebuilding an unchanged pipeline write nothing new.
    """
    import cloudpickle

    refs: List[Tuple[str, Any]] = []
    payload = {
        "func": func,
        "args": replace_pipeline_variables(tuple(args), refs),
        "kwargs": replace_pipeline_variables(dict(kwargs), refs),
    }
    data = cloudpickle.dumps(payload)
    digest = hashlib.sha256(data).hexdigest()[:20]
    target = os.path.join(payload_root, digest)
    path = os.path.join(target, PAYLOAD_FILE)
    if not os.path.exists(path):
        os.makedirs(target, exist_ok=True)
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return digest, refs
