"""The ``@remote`` decorator (mirror of ``sagemaker.remote_function.client.remote``).

On SageMaker, calling a ``@remote`` function runs it as a training job and returns its result
(or raises its exception). Locally the job is a separate Python process of this environment: the
function and its arguments are pickled into the store under ``<s3_root_uri>/<job name>/``
(``function``, ``arguments``), the process runs it with the job's environment variables, and its
result or exception comes back through ``results`` / ``exception`` there. Settings resolve as
for the SDK (:class:`sagepipe.remote_function.job._JobSettings`); instance type, image and the
like are recorded, not provisioned. Dependencies and pre-execution commands would have to be
installed into this environment, so they fail before anything runs.
"""

import os
import subprocess
import sys
from functools import wraps
from typing import Any, Callable, Optional

from sagepipe.remote_function.core import serialization
from sagepipe.remote_function.errors import RemoteFunctionError

FUNCTION_FOLDER = "function"
ARGUMENTS_FOLDER = "arguments"
RESULTS_FOLDER = "results"
EXCEPTION_FOLDER = "exception"


def remote(_func: Optional[Callable] = None, **job_settings: Any):
    """Run the decorated function in a separate job process when it is called.

    Accepts the SDK's keyword arguments (``instance_type``, ``environment_variables``,
    ``job_name_prefix``, ``s3_root_uri``, ``sagemaker_session``, ...).
    """

    def decorator(func: Callable):
        from sagepipe.remote_function.job import _JobSettings

        # Resolved where the function is decorated, as the SDK does, so a misspelt or conflicting
        # setting fails at the decorator rather than at the first call.
        settings = _JobSettings(**job_settings)
        _reject_environment_setup(func, settings)

        @wraps(func)
        def wrapper(*args, **kwargs):
            from sagepipe.workflow.entities import PipelineVariable
            from sagepipe.workflow.function_step import _check_arguments

            _check_arguments(func, args, kwargs)
            for value in list(args) + list(kwargs.values()):
                if isinstance(value, PipelineVariable):
                    raise ValueError(f"{type(value).__name__} is not supported as an argument of a @remote function.")
            return _run(func, args, kwargs, settings)

        return wrapper

    return decorator(_func) if _func is not None else decorator


def _reject_environment_setup(func: Callable, settings) -> None:
    for name in ("dependencies", "pre_execution_commands", "pre_execution_script", "job_conda_env"):
        if getattr(settings, name):
            raise ValueError(
                f"@remote function {func.__name__}: {name} cannot be applied locally (sagepipe runs the function "
                "in this Python environment, which it does not modify); install what it needs here and drop "
                f"{name}"
            )


def _job_name(func: Callable, settings) -> str:
    from sagepipe.utils import _job_name_prefix, name_from_base

    return name_from_base(settings.job_name_prefix or _job_name_prefix(func.__name__))


def _run(func: Callable, args: tuple, kwargs: dict, settings) -> Any:
    session = settings.sagemaker_session
    base = f"{settings.s3_root_uri.rstrip('/')}/{_job_name(func, settings)}"
    serialization.serialize_func_to_s3(func, session, f"{base}/{FUNCTION_FOLDER}")
    serialization.serialize_obj_to_s3((args, kwargs), session, f"{base}/{ARGUMENTS_FOLDER}")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (settings.environment_variables or {}).items()})
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path if isinstance(p, str))
    command = [sys.executable, "-m", "sagepipe.remote_function.invoke_function", str(session.store_root), base]
    returncode = subprocess.run(command, env=env).returncode
    if returncode == 0:
        return serialization.deserialize_obj_from_s3(session, f"{base}/{RESULTS_FOLDER}")
    try:
        exception = serialization.deserialize_exception_from_s3(session, f"{base}/{EXCEPTION_FOLDER}")
    except serialization.DeserializationError:
        exception = None
    if isinstance(exception, BaseException):
        raise exception
    raise RemoteFunctionError(f"@remote function {func.__name__}: the job process exited with status {returncode}")
