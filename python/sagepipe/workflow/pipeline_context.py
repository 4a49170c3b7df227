"""``PipelineSession`` and ``LocalPipelineSession`` (mirror of ``sagemaker.workflow.pipeline_context``).

Locally both mean the same thing: a :class:`sagepipe.session.Session` whose store keeps the
pipelines, executions and artifacts. ``function_step_mode`` chooses how ``@step`` functions run:
``"worker"`` (default: separate worker processes, parallel and isolated) or ``"in_process"``
(in this interpreter, so breakpoints and debuggers work). The ``SAGEPIPE_FUNCTION_MODE``
environment variable sets the default.

Job classes (``Processor.run``, ``EstimatorBase.fit``, ``Transformer.transform``,
``HyperparameterTuner.fit``, ``Model.create``/``register``) are wrapped by
:func:`runnable_by_pipeline`: under a pipeline session they return step arguments instead of
starting anything (the SDK's mechanism); on any other session they raise
:class:`sagepipe.exceptions.PipelineSessionRequiredError`, since sagepipe runs jobs only as
pipeline steps.
"""

import contextlib
import inspect
import os
import sys
import warnings
from functools import wraps
from typing import Any, Callable, Dict, Optional

from sagepipe._job_requests import no_direct_jobs_error
from sagepipe.session import Session

_MODES = ("worker", "in_process")


class _PipelineConfig:
    """What a step being compiled knows of its pipeline (the SDK's step compilation context).

    ``sagepipe.workflow.utilities.step_compilation_context_manager`` sets one while a step's
    arguments are built; job classes read it to name their uploads after the pipeline and step.

    Args:
        pipeline_name (str): pipeline name
        step_name (str): step name
        sagemaker_session: the session passed to the pipeline (may be None)
        code_hash (str): a hash of the code artifact for the particular step
        config_hash (str): a hash of the config artifact for the particular step (Processing)
        pipeline_definition_config (PipelineDefinitionConfig): configurations for the definition
        pipeline_build_time (str): timestamp of the pipeline build
        upload_runtime_scripts (bool): whether runtime scripts still need to be uploaded
        upload_workspace (bool): whether the workspace still needs to be uploaded
        function_step_secret_token (str): secret token shared by the function steps of a build
    """

    def __init__(
        self,
        pipeline_name: str,
        step_name: str,
        sagemaker_session: Any = None,
        code_hash: Optional[str] = None,
        config_hash: Optional[str] = None,
        pipeline_definition_config: Any = None,
        pipeline_build_time: Optional[str] = None,
        upload_runtime_scripts: bool = True,
        upload_workspace: bool = True,
        function_step_secret_token: Optional[str] = None,
    ):
        self.pipeline_name = pipeline_name
        self.step_name = step_name
        self.sagemaker_session = sagemaker_session
        self.code_hash = code_hash
        self.config_hash = config_hash
        self.pipeline_definition_config = pipeline_definition_config
        self.pipeline_build_time = pipeline_build_time
        self.upload_runtime_scripts = upload_runtime_scripts
        self.upload_workspace = upload_workspace
        self.function_step_secret_token = function_step_secret_token


class _StepArguments:
    """Step arguments entity for `Step`: a job function call deferred until definition time."""

    def __init__(self, caller_name: str = None, func: Callable = None, *func_args, **func_kwargs):
        """Create a `_StepArguments`.

        Args:
            caller_name (str): The name of the session function that builds the job request
                (``process``, ``train``, ``transform``, ``create_tuning_job``).
            func (Callable): The job class function that generates the step arguments
                (e.g. ``fit()`` for a training job).
            *func_args: The args for func.
            **func_kwargs: The kwargs for func.
        """
        self.caller_name = caller_name
        self.func = func
        self.func_args = func_args
        self.func_kwargs = func_kwargs


class _JobStepArguments(_StepArguments):
    """Step arguments entity for job step types (Training, Processing, Tuning, Transform)."""

    def __init__(self, caller_name: str, args: dict):
        """Create a `_JobStepArguments`.

        Args:
            caller_name (str): The name of the session function that built the request.
            args (dict): The captured ``Create*`` request.
        """
        super().__init__(caller_name)
        self.args = args


class _ModelStepArguments(_StepArguments):
    """Step arguments entity for `ModelStep`."""

    def __init__(self, model):
        """Create a `_ModelStepArguments`.

        Args:
            model (Model): A `sagepipe.model.Model` instance.
        """
        super().__init__()
        self.model = model
        self.create_model_package_request = None
        self.create_model_request = None
        self.need_runtime_repack = set()
        self.runtime_repack_output_prefix = None


class PipelineSession(Session):
    """A session for building and running pipelines locally.

    Accepts the SDK's arguments (all optional, AWS ones ignored) plus ``store`` and
    ``function_step_mode`` as keyword-only options.
    """

    def __init__(
        self,
        boto_session: Any = None,
        sagemaker_client: Any = None,
        default_bucket: Optional[str] = None,
        settings: Any = None,
        sagemaker_config: Any = None,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Any = None,
        function_step_mode: Optional[str] = None,
    ):
        super().__init__(
            boto_session=boto_session,
            sagemaker_client=sagemaker_client,
            default_bucket=default_bucket,
            settings=settings,
            sagemaker_config=sagemaker_config,
            default_bucket_prefix=default_bucket_prefix,
            store=store,
        )
        mode = function_step_mode or os.environ.get("SAGEPIPE_FUNCTION_MODE") or "worker"
        mode = mode.replace("-", "_")
        if mode not in _MODES:
            raise ValueError(f"function_step_mode must be one of {_MODES}, got {mode!r}")
        self.function_step_mode = mode
        self._context = None

    @property
    def context(self):
        """Hold contextual information useful to the session (the captured step arguments)."""
        return self._context

    @context.setter
    def context(self, value: Optional[_StepArguments] = None):
        self._context = value

    def _intercept_create_request(self, request: Dict, create, func_name: str = None):
        """Capture a ``Create*`` request as step arguments instead of sending it.

        Args:
            request (dict): The create request.
            create: Unused (the SDK's submit functor).
            func_name (str): The name of the session function that built the request.

        Returns:
            The captured pipeline context.
        """
        if func_name == "create_model":
            self.context.create_model_request = request
            self.context.caller_name = func_name
        elif func_name == "create_model_package_from_containers":
            self.context.create_model_package_request = request
            self.context.caller_name = func_name
        else:
            self.context = _JobStepArguments(func_name, request)
        return self.context

    def init_model_step_arguments(self, model):
        """Create a `_ModelStepArguments` (if not there yet) as pipeline context."""
        if not isinstance(self._context, _ModelStepArguments):
            self._context = _ModelStepArguments(model)


class LocalPipelineSession(PipelineSession):
    """The SDK's local-mode session; locally the same as :class:`PipelineSession`."""

    local_mode = True

    def __init__(
        self,
        boto_session: Any = None,
        default_bucket: Optional[str] = None,
        s3_endpoint_url: Optional[str] = None,
        disable_local_code: bool = False,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Any = None,
        function_step_mode: Optional[str] = None,
    ):
        super().__init__(
            boto_session=boto_session,
            default_bucket=default_bucket,
            default_bucket_prefix=default_bucket_prefix,
            store=store,
            function_step_mode=function_step_mode,
        )


#: What the SDK tells a job call under a PipelineSession: the call only builds the step's arguments.
PIPELINE_SESSION_NOTICE = "Running within a PipelineSession, there will be No Wait, No Logs, and No Job being started."


@contextlib.contextmanager
def pipeline_session_notice_hidden():
    """Hide :data:`PIPELINE_SESSION_NOTICE` (the mirror's and the real SDK's) for the duration.

    Where sagepipe itself loads and runs a pipeline file (the ``sagepipe`` command, the demo), the
    run that follows does wait and log, so the notice would mislead; a user's own code building a
    pipeline gets it as the SDK gives it (once per process under Python's default filters).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)
        yield


def runnable_by_pipeline(run_func):
    """Decorator for job functions (``run``, ``fit``, ``transform``, ``create``, ``register``).

    Under a :class:`PipelineSession` the call does not start a job: ``create``/``register`` run
    at once and return the captured ``_ModelStepArguments``; the others return a lazy
    ``_StepArguments`` that the step executes at definition time (``execute_job_functions``),
    capturing the ``Create*`` request. On any other session it raises
    :class:`sagepipe.exceptions.PipelineSessionRequiredError`.
    """

    @wraps(run_func)
    def wrapper(*args, **kwargs):
        self_instance = args[0]
        session = self_instance.sagemaker_session
        if not isinstance(session, PipelineSession):
            caller = retrieve_caller_name(self_instance) or run_func.__name__
            if run_func.__name__ == "create":
                caller = "create_model"
            elif run_func.__name__ == "register":
                caller = "create_model_package_from_containers"
            raise no_direct_jobs_error(caller)

        run_func_params = inspect.signature(run_func).parameters
        arg_list = list(args)
        override_wait, override_logs = False, False
        for i, arg_name in enumerate(run_func_params):
            if i >= len(arg_list):
                break
            if arg_name == "wait":
                override_wait = True
                arg_list[i] = False
            elif arg_name == "logs":
                override_logs = True
                arg_list[i] = False
        args = tuple(arg_list)
        if not override_wait and "wait" in run_func_params:
            kwargs["wait"] = False
        if not override_logs and "logs" in run_func_params:
            kwargs["logs"] = False

        # stacklevel 1, as the SDK: one location, so Python's default filter shows it once per process.
        warnings.warn(PIPELINE_SESSION_NOTICE, UserWarning, stacklevel=1)
        if run_func.__name__ in ("register", "create"):
            session.init_model_step_arguments(self_instance)
            run_func(*args, **kwargs)
            context = session.context
            session.context = None
            return context
        return _StepArguments(retrieve_caller_name(self_instance), run_func, *args, **kwargs)

    return wrapper


def retrieve_caller_name(job_instance) -> Optional[str]:
    """The session function name that builds the request of a job class instance."""
    from sagepipe.estimator import EstimatorBase
    from sagepipe.processing import Processor
    from sagepipe.transformer import Transformer
    from sagepipe.tuner import HyperparameterTuner

    if isinstance(job_instance, Processor):
        return "process"
    if isinstance(job_instance, EstimatorBase):
        return "train"
    if isinstance(job_instance, Transformer):
        return "transform"
    if isinstance(job_instance, HyperparameterTuner):
        return "create_tuning_job"
    automl = sys.modules.get("sagepipe.automl.automl")  # not imported: not an AutoML object
    if automl is not None and isinstance(job_instance, automl.AutoML):
        return "auto_ml"
    return None
