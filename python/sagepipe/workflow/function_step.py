"""The ``@step`` decorator (mirror of ``sagemaker.workflow.function_step``).

A decorated function, when called, does not run: it returns a :class:`DelayedReturn` that
stands for its result and builds a ``_FunctionStep``. In the definition a function step is a
``Training`` step shaped like the SDK's (remote-function entry point, ``--property_references``
and an ``OutputDataConfig.S3OutputPath`` that holds its results), so the definition stays one
SageMaker could read. Locally the engine recognises it by its entry point and runs the pickled
function in a worker process (or in-process, see ``PipelineSession(function_step_mode=...)``).
"""

import inspect
import json
import os
import sys
from functools import wraps
from typing import Any, Callable, Dict, List, Optional, Tuple

from sagepipe.workflow import utilities
from sagepipe.workflow._code_signature import code_files
from sagepipe.workflow._function_payload import JSON_SERIALIZED_RESULT_KEY, WRITTEN_PAYLOADS, CloudpickleSerializer
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.functions import Join, JsonGet
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import ConfigurableRetryStep, StepTypeEnum

__all__ = ["step", "DelayedReturn", "get_step"]

JOBS_CONTAINER_ENTRYPOINT = [
    "/bin/bash",
    "/opt/ml/input/data/sagemaker_remote_function_bootstrap/job_driver.sh",
]
SDK_VERSION_MIRRORED = "2.257.7"


def get_step(step_output: StepOutput):
    """The step behind a step output (``DelayedReturn`` or properties)."""
    return step_output._step


class DelayedReturn(StepOutput):
    """The result of a ``@step`` function call, available when the step has run.

    Index it (``out[0]``, ``out["key"]``) to refer to part of the result. It can be passed to
    other ``@step`` functions and used in conditions; it cannot be iterated.
    """

    _step: "_FunctionStep"

    def __init__(self, function_step: "_FunctionStep", reference_path: Tuple[Any, ...] = ()):
        super().__init__(function_step)
        self._reference_path = tuple(reference_path)

    def __getitem__(self, key) -> "DelayedReturn":
        return DelayedReturn(self._step, self._reference_path + (("__getitem__", key),))

    def __iter__(self):
        raise NotImplementedError("DelayedReturn object is not iterable.")

    def __deepcopy__(self, memodict=None):
        return self

    def _json_path(self) -> str:
        path = JSON_SERIALIZED_RESULT_KEY
        for _, key in self._reference_path:
            path += f"[{key}]" if isinstance(key, int) else f"['{key}']"
        return path

    @property
    def expr(self) -> RequestType:
        """``Std:JsonGet`` of the step's ``results.json``, as the SDK builds it."""
        return {
            "Std:JsonGet": {
                "S3Uri": {
                    "Std:Join": {
                        "On": "/",
                        "Values": [
                            {"Get": f"Steps.{self._step.name}.OutputDataConfig.S3OutputPath"},
                            "results.json",
                        ],
                    }
                },
                "Path": self._json_path(),
            }
        }

    @property
    def _referenced_steps(self) -> List[Any]:
        return [self._step]


class _DelayedSequence(DelayedReturn):
    """A ``DelayedReturn`` of a function annotated to return a tuple or list."""

    def __getitem__(self, key) -> DelayedReturn:
        if not isinstance(key, int):
            raise TypeError(f"Expected an integer, got {key}")
        return DelayedReturn(self._step, self._reference_path + (("__getitem__", key),))


class _FunctionStep(ConfigurableRetryStep):
    """A step that runs a Python function (built by the ``@step`` decorator)."""

    _is_function_step = True

    def __init__(
        self,
        name: str,
        display_name: Optional[str],
        description: Optional[str],
        retry_policies: Optional[List[RetryPolicy]],
        depends_on: Optional[List[Any]],
        func: Callable,
        func_args: tuple,
        func_kwargs: dict,
        **step_kwargs,
    ):
        super().__init__(
            name=name,
            step_type=StepTypeEnum.TRAINING,
            display_name=display_name,
            description=description,
            depends_on=depends_on,
            retry_policies=retry_policies,
        )
        self.func = func
        self.func_args = func_args
        self.func_kwargs = func_kwargs if func_kwargs is not None else {}
        self._step_kwargs = step_kwargs
        self.__job_settings = None
        self._serialize_output_to_json = False

    @ConfigurableRetryStep.depends_on.setter
    def depends_on(self, depends_on):
        """Setting the dependencies of a function step is not allowed (its data dependencies
        come from its arguments); ``add_depends_on`` extends them."""
        raise ValueError("Cannot set depends_on for a _FunctionStep. Use add_depends_on instead to extend the list.")

    @property
    def _job_settings(self):
        """The step's job settings (``_JobSettings``), resolved with the compiling pipeline's
        session (its SageMaker config) and kept while that session stays the same."""
        from sagepipe.remote_function.job import _JobSettings

        config = utilities.load_step_compilation_context()
        session = config.sagemaker_session if config else None
        cached = self.__job_settings
        if cached is not None and (config is None or cached.sagemaker_session is session):
            return cached
        self.__job_settings = _JobSettings(sagemaker_session=session, **self._step_kwargs)
        return self.__job_settings

    @property
    def _serialized_data(self):
        """The function and its arguments pickled as the step's payload carries them."""
        from sagepipe.remote_function.core.stored_function import _SerializedData
        from sagepipe.workflow._function_payload import replace_pipeline_variables

        refs: List[Tuple[str, Any]] = []
        args = replace_pipeline_variables(tuple(self.func_args), refs)
        kwargs = replace_pipeline_variables(dict(self.func_kwargs), refs)
        return _SerializedData(
            func=CloudpickleSerializer.serialize(self.func), args=CloudpickleSerializer.serialize((args, kwargs))
        )

    @property
    def properties(self):
        raise NotImplementedError("Properties attribute is not supported for _FunctionStep.")

    @property
    def arguments(self) -> RequestType:
        """The CreateTrainingJob-shaped request, with the function pickled into the store."""
        from sagepipe.workflow._function_payload import write_payload

        config = utilities.load_step_compilation_context()
        settings = self._job_settings
        session = settings.sagemaker_session
        s3_base_uri = f"{settings.s3_root_uri.rstrip('/')}/{config.pipeline_name}" if config else settings.s3_root_uri
        scope = _CompilationScope.of(config)
        if scope is None:
            payload_root = str(session.store.uri_to_path(f"{s3_base_uri}/{self.name}"))
            code_files = func_pickle = None
        else:
            payload_root = scope.payload_root(session, s3_base_uri, self.name)
            code_files = scope.code_files(self.func)
            func_pickle = scope.function_pickle(self.func)
        func_dir, refs = write_payload(
            payload_root, self.func, self.func_args, self.func_kwargs, code_files, func_pickle
        )

        container_args: List[Any] = [
            "--s3_base_uri",
            s3_base_uri,
            "--region",
            session.boto_region_name,
            "--client_python_version",
            f"{sys.version_info.major}.{sys.version_info.minor}",
            "--client_sagemaker_pysdk_version",
            SDK_VERSION_MIRRORED,
            "--dependency_settings",
            json.dumps({"dependency_file": None}),
            "--pipeline_step_name",
            self.name,
            "--pipeline_execution_id",
            ExecutionVariables.PIPELINE_EXECUTION_ID.expr,
            "--func_step_s3_dir",
            func_dir,
            "--property_references",
            "Execution.PipelineExecutionId",
            ExecutionVariables.PIPELINE_EXECUTION_ID.expr,
        ]
        for key, expr in refs:
            container_args.extend([key, expr])
        if self._serialize_output_to_json:
            container_args.extend(["--serialize_output_to_json", "true"])

        resource_config = {
            "VolumeSizeInGB": settings.volume_size,
            "InstanceCount": settings.instance_count,
            "InstanceType": settings.instance_type,
        }
        if settings.volume_kms_key is not None:
            resource_config["VolumeKmsKeyId"] = settings.volume_kms_key
        if settings.keep_alive_period_in_seconds is not None:
            resource_config["KeepAlivePeriodInSeconds"] = settings.keep_alive_period_in_seconds
        stopping_condition = {"MaxRuntimeInSeconds": settings.max_runtime_in_seconds}
        if settings.max_wait_time_in_seconds is not None:
            stopping_condition["MaxWaitTimeInSeconds"] = settings.max_wait_time_in_seconds
        output_config: Dict[str, Any] = {
            "S3OutputPath": Join(
                on="/", values=[s3_base_uri, ExecutionVariables.PIPELINE_EXECUTION_ID, self.name, "results"]
            ).expr
        }
        if settings.s3_kms_key is not None:
            output_config["KmsKeyId"] = settings.s3_kms_key
        request: Dict[str, Any] = {
            "RoleArn": settings.role,
            "StoppingCondition": stopping_condition,
            "RetryStrategy": {"MaximumRetryAttempts": settings.max_retry_attempts},
            "InputDataConfig": [
                _channel("sagemaker_remote_function_bootstrap", f"{s3_base_uri}/sagemaker_remote_function_bootstrap"),
                _channel(
                    "pre_exec_script_and_dependencies",
                    f"{s3_base_uri}/{self.name}/{func_dir}/pre_exec_script_and_dependencies",
                ),
            ],
            "OutputDataConfig": output_config,
            "AlgorithmSpecification": {
                "TrainingImage": settings.image_uri,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": list(JOBS_CONTAINER_ENTRYPOINT),
                "ContainerArguments": container_args,
            },
            "ResourceConfig": resource_config,
            "EnableNetworkIsolation": settings.enable_network_isolation,
            "EnableInterContainerTrafficEncryption": bool(settings.encrypt_inter_container_traffic),
            "EnableManagedSpotTraining": bool(settings.use_spot_instances),
            "Environment": settings.environment_variables,
        }
        if settings.vpc_config:
            request["VpcConfig"] = settings.vpc_config
        if settings.tags:
            request["Tags"] = settings.tags
        return request


class _CompilationScope:
    """What the function steps of one pipeline compilation share: the store directory of the
    pipeline's payloads, and each function's code signature files and pickle. Compiling 5,000
    steps of one function then opens the store, signs and pickles the function once, not 5,000
    times. Nothing outlives the compilation: a function pickled by value carries the globals
    it reads, which the user may change before the next one."""

    _current: Optional["_CompilationScope"] = None

    def __init__(self, token: str):
        self.token = token
        self._payload_bases: Dict[Tuple[int, str], Tuple[Any, str]] = {}
        self._code_files: Dict[int, Tuple[Callable, Any]] = {}
        self._function_pickles: Dict[int, Tuple[Callable, Any]] = {}

    @classmethod
    def of(cls, config) -> Optional["_CompilationScope"]:
        """The scope of the compilation ``config`` belongs to (None outside a compilation)."""
        token = getattr(config, "function_step_secret_token", None) if config else None
        if token is None:
            return None
        scope = cls._current
        if scope is None or scope.token != token:  # a new compilation: drop the last one's
            scope = cls._current = cls(token)
            WRITTEN_PAYLOADS.settle()
        return scope

    @classmethod
    def end(cls, token: str) -> None:
        """Forget a finished compilation's scope: it holds the pipeline's functions and session."""
        if cls._current is not None and cls._current.token == token:
            cls._current = None

    def payload_root(self, session, s3_base_uri: str, step_name: str) -> str:
        """``session.store.uri_to_path(f"{s3_base_uri}/{step_name}")``, the store opened once."""
        from sagepipe import _core  # here, not at import: building a pipeline loads no engine

        key = (id(session), s3_base_uri)
        cached = self._payload_bases.get(key)
        if cached is None or cached[0] is not session:
            cached = self._payload_bases[key] = (session, str(session.store.uri_to_path(s3_base_uri)))
        if _core.valid_step_name(step_name):  # one directory under the payload root
            return os.path.join(cached[1], step_name)
        return str(session.store.uri_to_path(f"{s3_base_uri}/{step_name}"))  # let the store judge it

    def code_files(self, func: Callable) -> Dict[str, str]:
        return _per_function(self._code_files, func, code_files)

    def function_pickle(self, func: Callable) -> bytes:
        return _per_function(self._function_pickles, func, CloudpickleSerializer.serialize)


def _per_function(table: Dict[int, Tuple[Callable, Any]], func: Callable, make: Callable[[Callable], Any]) -> Any:
    """``make(func)``, once per function in ``table`` (keyed by identity; the function is held,
    so its id is not reused while the entry lives)."""
    cached = table.get(id(func))
    if cached is None or cached[0] is not func:
        cached = table[id(func)] = (func, make(func))
    return cached[1]


def _channel(name: str, uri: str) -> Dict[str, Any]:
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3Uri": uri, "S3DataType": "S3Prefix"}}}


def _check_arguments(func: Callable, args: tuple, kwargs: dict) -> None:
    """Reject the calls the SDK's ``@step`` rejects, with its messages: wrong arity or keywords
    (``TypeError``), and ``Join``/``JsonGet`` arguments (``ValueError``)."""
    spec = inspect.getfullargspec(func)
    name = func.__name__
    positional = spec.args
    if spec.varargs is None and len(args) > len(positional):
        noun = "arguments" if len(positional) > 1 else "argument"
        verb = "were" if len(args) > 1 else "was"
        raise TypeError(f"{name}() takes {len(positional)} positional {noun} but {len(args)} {verb} given.")
    required = len(positional) - len(spec.defaults or ())
    missing = [arg for arg in positional[len(args) : required] if arg not in kwargs]
    if missing:
        raise TypeError(f"{name}() missing {_count_of(missing, 'required positional')}")
    for key in kwargs:
        if key in positional and positional.index(key) < len(args):
            raise TypeError(f"{name}() got multiple values for argument '{key}'")
        if key not in positional and key not in spec.kwonlyargs and spec.varkw is None:
            raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
    defaults = spec.kwonlydefaults or {}
    missing = [arg for arg in spec.kwonlyargs if arg not in defaults and arg not in kwargs]
    if missing:
        raise TypeError(f"{name}() missing {_count_of(missing, 'required keyword-only')}")
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, (Join, JsonGet)):
            raise ValueError(f"{type(value)} is not supported for function arguments.")


def _count_of(names: List[str], kind: str) -> str:
    """``2 required positional arguments: 'a', and 'b'`` (the SDK's wording)."""
    quoted = [f"'{n}'" for n in names]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    return f"{len(names)} {kind} {'arguments' if len(names) > 1 else 'argument'}: {listed}"


def _dependencies_in(values) -> List["_FunctionStep"]:
    found: List[_FunctionStep] = []

    def walk(v):
        if isinstance(v, DelayedReturn):
            if v._step not in found:
                found.append(v._step)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(values)
    return found


def step(
    _func: Optional[Callable] = None,
    *,
    name: Optional[str] = None,
    display_name: Optional[str] = None,
    description: Optional[str] = None,
    retry_policies: Optional[List[RetryPolicy]] = None,
    dependencies: Optional[str] = None,
    pre_execution_commands: Optional[List[str]] = None,
    pre_execution_script: Optional[str] = None,
    environment_variables: Optional[Dict[str, str]] = None,
    image_uri: Optional[str] = None,
    instance_count: int = 1,
    instance_type: Optional[str] = None,
    job_conda_env: Optional[str] = None,
    job_name_prefix: Optional[str] = None,
    keep_alive_period_in_seconds: int = 0,
    max_retry_attempts: int = 1,
    max_runtime_in_seconds: int = 86400,
    role: Optional[str] = None,
    security_group_ids: Optional[List[str]] = None,
    subnets: Optional[List[str]] = None,
    tags: Optional[List[Dict[str, str]]] = None,
    volume_kms_key: Optional[str] = None,
    volume_size: int = 30,
    encrypt_inter_container_traffic: Optional[bool] = None,
    spark_config: Any = None,
    use_spot_instances: bool = False,
    max_wait_time_in_seconds: Optional[int] = None,
):
    """Make a function a pipeline step (see the SDK's ``sagemaker.workflow.function_step.step``).

    Calling the decorated function returns a :class:`DelayedReturn` and creates the step; the
    function runs when the pipeline runs. Remote-job settings (instance type, image, role...)
    are accepted and recorded in the definition; locally they do not change how it runs.
    """
    step_kwargs = {
        "dependencies": dependencies,
        "pre_execution_commands": pre_execution_commands,
        "pre_execution_script": pre_execution_script,
        "environment_variables": environment_variables,
        "image_uri": image_uri,
        "instance_count": instance_count,
        "instance_type": instance_type,
        "job_conda_env": job_conda_env,
        "job_name_prefix": job_name_prefix,
        "keep_alive_period_in_seconds": keep_alive_period_in_seconds,
        "max_retry_attempts": max_retry_attempts,
        "max_runtime_in_seconds": max_runtime_in_seconds,
        "role": role,
        "security_group_ids": security_group_ids,
        "subnets": subnets,
        "tags": tags,
        "volume_kms_key": volume_kms_key,
        "volume_size": volume_size,
        "encrypt_inter_container_traffic": encrypt_inter_container_traffic,
        "spark_config": spark_config,
        "use_spot_instances": use_spot_instances,
        "max_wait_time_in_seconds": max_wait_time_in_seconds,
    }

    def decorator(func: Callable):
        if dependencies == "auto_capture":
            raise ValueError("Auto Capture of dependencies is not supported for pipeline steps.")
        signature = inspect.signature(func)

        @wraps(func)
        def wrapper(*args, **kwargs) -> DelayedReturn:
            _check_arguments(func, args, kwargs)
            if not name:
                import uuid  # only for unnamed steps: it costs ~5 ms of import (platform)

                # The SDK's unique_name_from_base_uuid4: the base cut so the name fits 63 chars.
                step_name = f"{func.__name__[: 63 - 37]}-{uuid.uuid4()}"
            else:
                step_name = name
            function_step = _FunctionStep(
                name=step_name,
                display_name=display_name or f"{func.__module__}.{func.__name__}",
                description=description or func.__doc__ or func.__code__.co_filename,
                retry_policies=retry_policies,
                depends_on=_dependencies_in((args, kwargs)),
                func=func,
                func_args=args,
                func_kwargs=kwargs,
                **step_kwargs,
            )
            annotation = signature.return_annotation
            origin = getattr(annotation, "__origin__", annotation)
            if origin in (tuple, list, Tuple, List):
                return _DelayedSequence(function_step)
            return DelayedReturn(function_step)

        return wrapper

    if _func is not None:
        return decorator(_func)
    return decorator
