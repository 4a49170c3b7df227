"""Utilities to support workflow (mirror of ``sagemaker.workflow.utilities``)."""

import hashlib
import logging
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Sequence, Set, Tuple, Union
from urllib.parse import unquote, urlparse

from sagepipe.workflow.entities import Entity, RequestType

if TYPE_CHECKING:
    from sagepipe.workflow.pipeline_context import _PipelineConfig
    from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig
    from sagepipe.workflow.step_collections import StepCollection

logger = logging.getLogger(__name__)

DEF_CONFIG_WARN_MSG_TEMPLATE = (
    "Popping out '%s' from the pipeline definition by default "
    "since it will be overridden at pipeline execution time. Please utilize "
    "the PipelineDefinitionConfig to persist this field in the pipeline definition "
    "if desired."
)

BUF_SIZE = 65536  # 64KiB

_logged_once: Set[Tuple[str, str]] = set()
_logged_once_lock = threading.Lock()


def definition_steps(steps: Any) -> "Iterator[dict]":
    """Every step object of a definition's ``Steps`` list, those in ConditionSteps' branches too."""
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        yield step
        args = step.get("Arguments")
        if isinstance(args, dict):
            for branch in ("IfSteps", "ElseSteps"):
                yield from definition_steps(args.get(branch))


def log_warning_once(log: logging.Logger, message: str, *args) -> None:
    """``log.warning(message, *args)`` the first time this process logs this text, then never again.

    Definition-time notices (a job name popped from the definition, a deprecated call) would
    otherwise repeat every time a pipeline is built, planned or started.
    """
    key = (log.name, message % args if args else message)
    with _logged_once_lock:
        if key in _logged_once:
            return
        _logged_once.add(key)
    log.warning(message, *args)


# Set while a step is being compiled (see ``step_compilation_context_manager``).
_pipeline_config: Optional["_PipelineConfig"] = None


def list_to_request(entities: Sequence[Union[Entity, "StepCollection"]]) -> List[RequestType]:
    """Get the request structure for list of entities.

    Args:
        entities (Sequence[Entity]): A list of entities.
    Returns:
        list: A request structure for a workflow service call.
    """
    from sagepipe.workflow.step_collections import StepCollection

    request_dicts = []
    for entity in entities:
        if isinstance(entity, Entity):
            request_dicts.append(entity.to_request())
        elif isinstance(entity, StepCollection):
            request_dicts.extend(entity.request_dicts())
    return request_dicts


def sagemaker_timestamp() -> str:
    """Return a timestamp with millisecond precision (``%Y-%m-%d-%H-%M-%S-%f``, ms)."""
    moment = time.time()
    moment_ms = repr(moment).split(".")[1][:3].ljust(3, "0")
    return time.strftime(f"%Y-%m-%d-%H-%M-%S-{moment_ms}", time.gmtime(moment))


def base_from_name(name: str) -> str:
    """Extract the base name of a resource name (strip the trailing timestamp suffix)."""
    # The long timestamp, the generated suffix, or the short one (``name_from_base(short=True)``,
    # as tuning job names use).
    m = re.match(r"^(.+)-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}|\d{10}-[a-z0-9]{4}|\d{6}-\d{4})$", name)
    return m.group(1) if m else name


@contextmanager
def step_compilation_context_manager(
    pipeline_name: str,
    step_name: str,
    sagemaker_session: Any = None,
    code_hash: Optional[str] = None,
    config_hash: Optional[str] = None,
    pipeline_definition_config: "PipelineDefinitionConfig" = None,
    upload_runtime_scripts: bool = True,
    upload_workspace: bool = True,
    pipeline_build_time: Optional[str] = None,
    function_step_secret_token: Optional[str] = None,
):
    """Expose the module-level ``_pipeline_config`` to steps while they are being compiled.

    Yields:
        _PipelineConfig: the context of the step being compiled.
    """
    # pylint: disable=W0603
    # The SDK's home of _PipelineConfig; imported here, not at the top: it imports the session.
    from sagepipe.workflow.pipeline_context import _PipelineConfig

    global _pipeline_config
    _pipeline_config = _PipelineConfig(
        pipeline_name=pipeline_name,
        step_name=step_name,
        sagemaker_session=sagemaker_session,
        code_hash=code_hash,
        config_hash=config_hash,
        pipeline_definition_config=pipeline_definition_config,
        upload_runtime_scripts=upload_runtime_scripts,
        upload_workspace=upload_workspace,
        pipeline_build_time=pipeline_build_time,
        function_step_secret_token=function_step_secret_token,
    )
    try:
        yield _pipeline_config
    finally:
        _pipeline_config = None


def load_step_compilation_context() -> Optional["_PipelineConfig"]:
    """The context of the step being compiled (None outside a compilation)."""
    return _pipeline_config


def validate_step_args_input(step_args: Any, expected_caller: set, error_message: str):
    """Validate that ``step_args`` came from the expected job function under a PipelineSession.

    Args:
        step_args (_StepArguments): The step arguments passed to a step.
        expected_caller (Set[str]): The accepted session function names (``process``, ...).
        error_message (str): The message of the raised error.

    Raises:
        TypeError: ``step_args`` is not a ``_StepArguments``.
        ValueError: It comes from another kind of job function.
    """
    from sagepipe.workflow.pipeline_context import _StepArguments

    if not isinstance(step_args, _StepArguments):
        raise TypeError(error_message)
    if step_args.caller_name not in expected_caller:
        raise ValueError(error_message)


def execute_job_functions(step_args: Any):
    """Run the job function deferred in ``step_args`` (and any it chains to), at definition time.

    Under a PipelineSession this captures the ``Create*`` request into the session's context.
    """
    from sagepipe.workflow.pipeline_context import _StepArguments

    chained_args = step_args.func(*step_args.func_args, **step_args.func_kwargs)
    if isinstance(chained_args, _StepArguments):
        execute_job_functions(chained_args)


def get_code_hash(step: Entity) -> Optional[str]:
    """Get the hash of the code artifact(s) for the given step.

    Steps may define a ``_get_code_hash()`` method; otherwise None is returned.
    """
    getter = getattr(type(step), "_get_code_hash", None)
    if callable(getter):
        return step._get_code_hash()
    return None


def get_config_hash(step: Entity) -> Optional[str]:
    """Get the hash of the config artifact(s) for the given step.

    Steps may define a ``_get_config_hash()`` method; otherwise None is returned.
    """
    getter = getattr(type(step), "_get_config_hash", None)
    if callable(getter):
        return step._get_config_hash()
    return None


def get_processing_dependencies(dependency_args: List[List[str]]) -> List[str]:
    """Flatten the Processing job dependency arguments into one list."""
    dependencies = []
    for arg in dependency_args:
        if arg:
            dependencies += arg
    return dependencies


def get_processing_code_hash(code: str, source_dir: str, dependencies: List[str]) -> Optional[str]:
    """Get the hash of a processing step's code artifact(s)."""
    if source_dir:
        source_dir_url = urlparse(source_dir)
        if source_dir_url.scheme == "" or source_dir_url.scheme == "file":
            if code:
                code_url = urlparse(code)
                if code_url.scheme == "" or code_url.scheme == "file":
                    return hash_files_or_dirs([code, source_dir] + dependencies)
            return hash_files_or_dirs([source_dir] + dependencies)
    if code:
        code_url = urlparse(code)
        if code_url.scheme == "" or code_url.scheme == "file":
            return hash_files_or_dirs([code] + dependencies)
    return None


def get_training_code_hash(entry_point: str, source_dir: str, dependencies: List[str]) -> Optional[str]:
    """Get the hash of a training step's code artifact(s)."""
    from sagepipe.workflow import is_pipeline_variable

    if not is_pipeline_variable(source_dir) and not is_pipeline_variable(entry_point):
        if source_dir:
            source_dir_url = urlparse(source_dir)
            if source_dir_url.scheme == "" or source_dir_url.scheme == "file":
                return hash_files_or_dirs([source_dir] + dependencies)
        elif entry_point:
            entry_point_url = urlparse(entry_point)
            if entry_point_url.scheme == "" or entry_point_url.scheme == "file":
                return hash_files_or_dirs([entry_point] + dependencies)
    return None


def hash_object(obj) -> str:
    """Get the SHA256 hash of an object (of its ``str()``)."""
    return hashlib.sha256(str(obj).encode()).hexdigest()


def hash_file(path: str) -> str:
    """Get the SHA256 hash of a file."""
    return _hash_file(path, hashlib.sha256()).hexdigest()


def hash_files_or_dirs(paths: List[str]) -> str:
    """Get the SHA256 hash of the contents of a list of files or directories.

    For each path (sorted), the path string itself is hashed, followed by the file bytes or the
    directory tree (entry names and file bytes, sorted).
    """
    sha256 = hashlib.sha256()
    for path in sorted(paths):
        sha256 = _hash_file_or_dir(path, sha256)
    return sha256.hexdigest()


def _hash_file_or_dir(path: str, sha256):
    if isinstance(path, str) and path.lower().startswith("file://"):
        path = unquote(urlparse(path).path)
    sha256.update(path.encode())
    if Path(path).is_dir():
        sha256 = _hash_dir(path, sha256)
    elif Path(path).is_file():
        sha256 = _hash_file(path, sha256)
    return sha256


def _hash_dir(directory: Union[str, Path], sha256):
    if not Path(directory).is_dir():
        raise ValueError(str(directory) + " is not a valid directory")
    for path in sorted(Path(directory).iterdir()):
        sha256.update(path.name.encode())
        if path.is_file():
            sha256 = _hash_file(path, sha256)
        elif path.is_dir():
            sha256 = _hash_dir(path, sha256)
    return sha256


def _hash_file(file: Union[str, Path], sha256):
    if isinstance(file, str) and file.lower().startswith("file://"):
        file = unquote(urlparse(file).path)
    if not Path(file).is_file():
        raise ValueError(str(file) + " is not a valid file")
    with open(file, "rb") as f:
        while True:
            data = f.read(BUF_SIZE)
            if not data:
                break
            sha256.update(data)
    return sha256


def trim_request_dict(request_dict, job_key, config):
    """Trim the job name off request_dict unless custom job prefixes are enabled.

    Args:
        request_dict (dict): arguments of a pipeline step.
        job_key (str): The key holding the job name (e.g. ``TrainingJobName``).
        config (_PipelineConfig): The config set for the step being compiled.
    """
    if (
        not config
        or not config.pipeline_definition_config
        or (not config.pipeline_definition_config.use_custom_job_prefix)
    ):
        log_warning_once(logger, DEF_CONFIG_WARN_MSG_TEMPLATE, job_key)
        request_dict.pop(job_key, None)
    else:
        if job_key in request_dict:
            if not request_dict[job_key]:
                raise ValueError(
                    f"Invalid input: use_custom_job_prefix flag is set but the name field [{job_key}] has not been "
                    f"specified. Name the job (e.g. Model(name=...), base_job_name=...) or build the pipeline with "
                    f"PipelineDefinitionConfig(use_custom_job_prefix=False)."
                )
            request_dict[job_key] = base_from_name(request_dict[job_key])
    return request_dict


def _collect_parameters(func):
    """Decorator for a method (usually a step's ``__init__``): before it runs, every argument it
    is called with, defaults included, becomes an attribute of the instance (except ``self`` and
    ``depends_on``, which steps keep privately), overriding one set earlier."""
    import functools
    import inspect

    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name not in ("self", "depends_on"):
                setattr(self, name, value)
        func(self, *args, **kwargs)

    return wrapper
