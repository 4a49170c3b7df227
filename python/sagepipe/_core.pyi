"""Type stubs of the compiled engine module ``sagepipe._core`` (JSON text in, JSON text out)."""

from os import PathLike
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple, Union, final

__all__ = [
    "CODE_SIDECAR_SUFFIX",
    "Execution",
    "INLINE_LIMIT",
    "Store",
    "StoreLock",
    "TERMINAL_STATUSES",
    "LOCAL_ACCOUNT",
    "compile_definition",
    "live_execution",
    "live_executions",
    "parse_execution_arn",
    "parse_pipeline_arn",
    "suggest",
    "valid_step_name",
    "__version__",
]

__version__: str
TERMINAL_STATUSES: Tuple[str, ...]
"""The execution statuses after which nothing changes."""
CODE_SIDECAR_SUFFIX: str
"""What the store appends to a code file's name for its content-hash sidecar."""
LOCAL_ACCOUNT: str
"""The account number of local ARNs (an ARN of SageMaker itself names another)."""
INLINE_LIMIT: int
"""The largest step output the runtime may answer inline (kept in the store's database)."""

def compile_definition(definition: str, pipeline: str) -> str:
    """Parse and validate a definition; returns a JSON summary (``steps``, ``edges``, ``order``);
    each step has ``name``, ``type``, ``display_name``, ``function`` (a ``@step`` function step)
    and ``parent``, condition branches included. The compilation is kept for a following
    ``start()``/``plan()`` of the same text.

    Raises:
        sagepipe.exceptions.DefinitionError: listing every problem found.
    """

def live_execution(arn: str) -> Optional[Execution]:
    """The handle of an execution this process is running, if any."""

def live_executions() -> List[str]:
    """ARNs of the executions this process is still running."""

def suggest(name: str, candidates: List[str]) -> Optional[str]:
    """The candidate closest to ``name`` ("did you mean"), if one is reasonably close."""

def valid_step_name(name: str) -> bool:
    """Whether ``name`` is a valid step name (1 to 64 characters from ``[A-Za-z0-9-_]``)."""

def parse_pipeline_arn(arn: str) -> Optional[str]:
    """The pipeline name of a pipeline ARN, or None if ``arn`` is not one."""

def parse_execution_arn(arn: str) -> Optional[Tuple[str, str]]:
    """``(pipeline name, execution id)`` of a pipeline execution ARN, or None if ``arn`` is not one."""

@final
class Execution:
    """A handle to an execution running in this process."""

    @property
    def arn(self) -> str: ...
    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block (without the GIL) until the execution ends; False if the timeout passed first."""
    def stop(self) -> None:
        """Stop: nothing new starts and running steps are killed."""
    def done(self) -> bool: ...

@final
class StoreLock:
    """The store-wide lock held exclusively: a context manager (starts wait while it is held)."""

    def release(self) -> None: ...
    def __enter__(self) -> StoreLock: ...
    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool: ...

@final
class Store:
    """The store directory: pipelines, executions, step records, logs and artifacts."""

    def __new__(cls, root: Union[str, PathLike[str]]) -> Store: ...
    @property
    def root(self) -> Path: ...
    @property
    def exists(self) -> bool: ...
    def executions_with_id(self, id_prefix: str) -> List[str]: ...
    def put_pipeline(self, name: str, definition: str, mode: str, fields: str) -> str: ...
    def load_pipeline(self, name: str) -> str: ...
    def list_pipelines(self) -> str:
        """Readable pipeline records (JSON list); each unreadable one is a ``StoreWarning``."""
    def unreadable_records(self) -> str:
        """Every store record that cannot be read (JSON list of ``{"Path", "Reason", "Text"}``)."""
    def registry_records(self) -> str:
        """Every model and model package version record (JSON list of ``{"Source", "Record"}``)."""
    def gc_plan(self, keep: int, older_than: Optional[float] = None, pipelines: Optional[List[str]] = None) -> str:
        """gc's plan (JSON ``{"keep", "delete", "artifacts", "kept_artifacts", "unreadable", "state"}``)."""
    def records_state(self) -> Optional[Tuple[int, int, int]]:
        """What changes whenever anything is committed to the store's records (None: no records)."""
    def exclusive_lock(self) -> StoreLock:
        """Wait for the store-wide lock and hold it exclusively (what gc holds)."""
    def sweep_trash(self) -> None:
        """Empty the store's trash (what removals interrupted by a kill left there)."""
    def delete_pipeline(self, name: str) -> str: ...
    def delete_execution(self, arn: str) -> None:
        """Delete an execution's records and logs (refused while it runs)."""
    def delete_artifact(self, uri: str) -> None:
        """Delete an artifact under the store's ``s3/`` area."""
    def delete_executions(self, arns: List[str]) -> List[str]:
        """Delete executions, many to a transaction; returns those deleted (gone ones skipped)."""
    def delete_artifacts(self, uris: List[str]) -> None:
        """Delete artifacts under the store's ``s3/`` area (absent ones are no-ops)."""
    def request_stop(self, arn: str) -> str:
        """Ask the process running an execution to stop it; returns its record (JSON)."""
    def definition_text(self, name: str, version: Optional[int] = None) -> str: ...
    def pipeline_versions(self, name: str) -> str:
        """The versions of a pipeline, oldest first (JSON list of ``[version, creation time]``)."""
    def pipeline_triggers(self, name: str) -> str:
        """The triggers recorded for a pipeline (JSON object by trigger name)."""
    def update_pipeline_triggers(self, name: str, put: str, delete: List[str]) -> str:
        """Record the triggers of ``put`` (JSON list), remove those named in ``delete``; the removed names."""
    def list_executions(self, name: str) -> str:
        """Readable execution records, newest first (JSON list); each unreadable one is a ``StoreWarning``."""
    def execution_page(
        self,
        name: str,
        limit: int,
        newest_first: bool = True,
        created_after_us: Optional[int] = None,
        created_before_us: Optional[int] = None,
        after: Optional[Tuple[int, str]] = None,
    ) -> str:
        """One page of executions in creation order (JSON ``{"Records": [...], "Next": [created_us, id] | null}``)."""
    def latest_execution(self, name: str) -> Optional[str]:
        """The newest readable execution record (JSON), or None."""
    def migrate(self) -> str:
        """Migrate the store to the current record format if it is older (JSON summary)."""
    def load_execution(self, arn: str) -> str: ...
    def load_steps(self, arn: str) -> str: ...
    def execution_definition(self, arn: str) -> str: ...
    def uri_to_path(self, uri: str) -> Path: ...
    def inline_object(self, uri: str) -> Optional[bytes]: ...
    def materialize(self, uri: str) -> None: ...
    def log_path(self, arn: str, step: str) -> Path: ...
    def plan(
        self,
        pipeline: str,
        config: Optional[str] = None,
        parameters: Optional[str] = None,
        version: Optional[int] = None,
        external_types: List[str] = ...,
        image_runners: str = ...,
        definition: Optional[str] = None,
    ) -> str:
        """What a start would do per step (JSON); selective when ``config`` is given. A step a
        start with these ``external_types`` and ``image_runners`` would refuse is ``refused``.
        ``definition``: the text of ``version`` the caller has just stored (not read back)."""
    def resume_selection(self, arn: str) -> List[str]: ...
    def prewarm_workers(
        self,
        python: Union[str, PathLike[str]],
        python_path: List[str] = ...,
        cwd: Optional[Union[str, PathLike[str]]] = ...,
    ) -> None:
        """Start a function-step worker now, so its start-up overlaps what the caller does next."""
    def start(
        self,
        request: str,
        python: Optional[Union[str, PathLike[str]]] = None,
        python_path: List[str] = ...,
        cwd: Optional[Union[str, PathLike[str]]] = None,
        host: Optional[Callable[[str], str]] = None,
        external_types: List[str] = ...,
        interpreter: Optional[Union[str, PathLike[str]]] = None,
        image_runners: str = ...,
        definition: Optional[str] = None,
    ) -> Execution:
        """Start an execution; ``interpreter`` is what ``python`` means in jobs, ``image_runners``
        JSON ``[{"pattern": regex, "command": [...]}]`` (see ``sagepipe.local_runners``);
        ``definition``: the text of the request's ``PipelineVersionId`` the caller has just
        stored (not read back)."""
    def describe_model(self, name: str) -> str:
        """``DescribeModel`` record (JSON) of a model a CreateModel step recorded."""
    def list_model_package_groups(self) -> str:
        """``ModelPackageGroupSummaryList`` entries (JSON), oldest first."""
    def list_model_packages(self, group: str) -> str:
        """``ModelPackageSummaryList`` entries (JSON) of a group, by version."""
    def describe_model_package(self, arn: str) -> str:
        """``DescribeModelPackage`` record (JSON) by ARN or ``<group>/<version>``."""
    def import_execution(self, record: str, definition: str, steps: str) -> bool:
        """Record a finished execution that ran on SageMaker, in one transaction; False when it
        was recorded already (nothing is written then)."""
    def create_model_package(self, request: str) -> str:
        """``CreateModelPackage`` from request JSON; returns the new package's record (JSON)."""
    def update_model_package(self, arn: str, update: str) -> str:
        """``UpdateModelPackage`` with request JSON; returns the updated record (JSON)."""
