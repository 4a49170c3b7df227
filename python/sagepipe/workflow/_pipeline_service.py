"""``_PipelineService``: the service side of ``Pipeline`` (create, update, upsert, describe,
delete, start, plan, list_executions...) backed by the local store and engine."""

import json
import math
import os
import sys
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from sagepipe import _cloud, _responses
from sagepipe.exceptions import ResourceNotFoundError, ValidationError
from sagepipe.workflow._execution_handle import _PipelineExecution
from sagepipe.workflow._execution_plan import ExecutionPlan
from sagepipe.workflow._interrupts import _ensure_exit_handling, _store_roots
from sagepipe.workflow._store_access import _default_session, _store_of


def _parallelism_request(config: Any) -> Optional[Dict[str, Any]]:
    if config is None:
        return None
    to_request = getattr(config, "to_request", None)  # a ParallelismConfiguration object
    return to_request() if callable(to_request) else config  # anything else is checked by the store


class _PipelineService:
    """create/update/upsert/describe/delete/start/list_executions for ``Pipeline``."""

    # What the mixin uses of ``Pipeline`` (declared for the type checker; Pipeline sets them).
    name: str
    steps: Any
    sagemaker_session: Any
    _fixed_definition: Optional[str]

    if TYPE_CHECKING:

        def definition(self) -> str: ...

    def _session(self):
        if self.sagemaker_session is None:
            self.sagemaker_session = _default_session()
        return self.sagemaker_session

    @property
    def _store(self):
        return _store_of(self._session())

    def _repr_html_(self) -> str:
        """Jupyter view: the pipeline's DAG as SVG (``sagepipe.display``)."""
        from sagepipe.display import pipeline_html

        return pipeline_html(self)

    def _put(
        self, mode: str, role_arn=None, description=None, tags=None, parallelism_config=None, definition=None
    ) -> Dict[str, Any]:
        from sagepipe import config

        # The SageMaker config's pipeline defaults, as the SDK applies them on create/update.
        session = self._session()
        role_arn = config.resolve_value_from_config(role_arn, config.PIPELINE_ROLE_ARN_PATH, None, session)
        if mode != "update":
            tags = config.append_config_tags(session, list(tags) if tags else None, config.PIPELINE_TAGS_PATH)
        fields = {
            "RoleArn": role_arn,
            "PipelineDescription": description,
            "ParallelismConfiguration": _parallelism_request(parallelism_config),
            "Tags": list(tags) if tags else None,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        text = definition if definition is not None else self.definition()
        rec = json.loads(self._store.put_pipeline(self.name, text, mode, json.dumps(fields)))
        return rec

    def _worker_spec(self) -> Dict[str, Any]:
        """How the engine starts function-step workers for this pipeline: this interpreter, with
        this process's import path and working directory (no ``python``: steps run in-process)."""
        in_process = getattr(self._session(), "function_step_mode", "worker") == "in_process"
        cwd = os.getcwd()
        return {
            "python": None if in_process else sys.executable,
            "python_path": [p or cwd for p in sys.path if isinstance(p, str)],
            "cwd": cwd,
        }

    def _prewarm_workers(self) -> None:
        """Have a function-step worker starting, so its interpreter start-up overlaps building
        the definition. Called on create/update/upsert too (not ``plan()``, which runs nothing):
        scripts call ``upsert()`` just before ``start()``, and the idle worker serves any
        execution of this process."""
        fs = sys.modules.get("sagepipe.workflow.function_step")  # not loaded: no @step steps
        if fs and any(isinstance(s, (fs.DelayedReturn, fs._FunctionStep)) for s in self.steps or ()):
            spec = self._worker_spec()
            if spec["python"] is not None:
                self._store.prewarm_workers(**spec)

    def create(
        self, role_arn: str = None, description: str = None, tags=None, parallelism_config=None
    ) -> Dict[str, Any]:
        """Create the pipeline in the local store (the role is recorded, not needed)."""
        self._prewarm_workers()
        rec = self._put("create", role_arn, description, tags, parallelism_config)
        return {"PipelineArn": rec["PipelineArn"], "ResponseMetadata": dict(_responses.RESPONSE_METADATA)}

    def update(self, role_arn: str = None, description: str = None, parallelism_config=None) -> Dict[str, Any]:
        """Store the current definition as the pipeline's new version (if it changed)."""
        self._prewarm_workers()
        rec = self._put("update", role_arn, description, None, parallelism_config)
        return {
            "PipelineArn": rec["PipelineArn"],
            "PipelineVersionId": rec["LatestVersion"],
            "ResponseMetadata": dict(_responses.RESPONSE_METADATA),
        }

    def upsert(
        self, role_arn: str = None, description: str = None, tags=None, parallelism_config=None
    ) -> Dict[str, Any]:
        """Create the pipeline, or update it if it exists."""
        self._prewarm_workers()
        rec = self._put("upsert", role_arn, description, tags, parallelism_config)
        return {
            "PipelineArn": rec["PipelineArn"],
            "PipelineVersionId": rec["LatestVersion"],
            "ResponseMetadata": dict(_responses.RESPONSE_METADATA),
        }

    def describe(self, pipeline_version_id: int = None) -> Dict[str, Any]:
        """``DescribePipeline`` (the latest version's definition unless one is named)."""
        rec = json.loads(self._store.load_pipeline(self.name))
        definition = self._store.definition_text(self.name, pipeline_version_id)
        return _responses.pipeline_description(rec, definition)

    def delete(self) -> Dict[str, Any]:
        """Delete the pipeline with its executions and their records."""
        rec = json.loads(self._store.delete_pipeline(self.name))
        return {"PipelineArn": rec["PipelineArn"], "ResponseMetadata": dict(_responses.RESPONSE_METADATA)}

    def list_executions(
        self, sort_by: str = None, sort_order: str = None, max_results: int = None, next_token: str = None
    ) -> Dict[str, Any]:
        """``ListPipelineExecutions`` (only the summaries and NextToken, as the SDK returns)."""
        return _responses.execution_page(
            self._store, self.name, sort_by, sort_order, max_results=max_results, next_token=next_token
        )

    def _get_latest_execution_arn(self) -> Optional[str]:
        latest = self._store.latest_execution(self.name)
        return json.loads(latest)["PipelineExecutionArn"] if latest else None

    def _stored(self) -> bool:
        try:
            self._store.load_pipeline(self.name)
        except ResourceNotFoundError:
            return False
        return True

    def _reference_execution_arn(self, config: Any) -> Optional[str]:
        """The execution a selective run of ``config`` compares with: its source ARN, else
        (``reference_latest_execution``) this pipeline's latest execution, else None."""
        if config.source_pipeline_execution_arn is None and config.reference_latest_execution:
            return self._get_latest_execution_arn()
        arn = config.source_pipeline_execution_arn
        if _cloud.cloud_region(arn):
            self._record_cloud_execution(arn)
        return arn

    def _record_cloud_execution(self, arn: str) -> None:
        """Record an execution on SageMaker in the store (once), under this pipeline (stored
        first if it is not yet): from then on it is a reference like a local one."""
        if self.steps and not self._stored():
            self._put("upsert", definition=self.definition())
        _cloud.import_execution(self._store, self.name, arn)

    def build_parameters_from_execution(
        self, pipeline_execution_arn: str, parameter_value_overrides: Dict[str, Any] = None
    ) -> Dict[str, Any]:
        """The parameters of an earlier execution (as strings), with optional overrides."""
        execution = _PipelineExecution(pipeline_execution_arn, self._session())
        params: Dict[str, Any] = {}
        token = None
        while True:
            page = execution.list_parameters(next_token=token)
            params.update({p["Name"]: p["Value"] for p in page["PipelineParameters"]})
            token = page.get("NextToken")
            if not token:
                break
        if parameter_value_overrides:
            unknown = set(parameter_value_overrides) - set(params)
            if unknown:
                raise ValueError(
                    f"The following parameter overrides provided: {unknown} are not present in the pipeline "
                    f"execution: {pipeline_execution_arn}"
                )
            params.update(parameter_value_overrides)
        return params

    def start(
        self,
        parameters: Dict[str, Union[str, bool, int, float]] = None,
        execution_display_name: str = None,
        execution_description: str = None,
        parallelism_config=None,
        selective_execution_config=None,
        pipeline_version_id: int = None,
        *,
        client_request_token: Optional[str] = None,
    ) -> _PipelineExecution:
        """Start an execution; returns at once (``wait()`` blocks).

        Locally the current definition is stored first (as ``upsert`` would, with a new version
        only if it changed), so what runs is the pipeline as it is in the code now. A
        ``Pipeline(name=...)`` with no steps runs the stored definition. ``client_request_token``
        (keyword only, used by ``sagepipe.client()``) is recorded with the execution.
        """
        from sagepipe import _runtime, local_runners

        store = self._store
        definition = None  # the text of pipeline_version_id, when it is the one stored here
        if self.steps:
            self._prewarm_workers()
            text = self.definition()
            stored = self._put("upsert", definition=text)
            if pipeline_version_id is None:
                # The version holding this definition: "the latest" may already be another
                # process's definition of the same pipeline.
                pipeline_version_id = stored["LatestVersion"]
                definition = text
        else:
            store.load_pipeline(self.name)  # raises ResourceNotFoundError when unknown
        selective = None
        if selective_execution_config is not None:
            reference = self._reference_execution_arn(selective_execution_config)
            selective_execution_config.source_pipeline_execution_arn = reference
            selective = selective_execution_config._engine_request()
            if _cloud.cloud_region(reference):
                self._fetch_reads(selective, parameters, pipeline_version_id, definition)
        request = {
            "PipelineName": self.name,
            "Parameters": _plain_parameters(parameters or {}),
            "PipelineExecutionDisplayName": execution_display_name,
            "PipelineExecutionDescription": execution_description,
            "ParallelismConfiguration": _parallelism_request(parallelism_config),
            "SelectiveExecutionConfig": selective,
            "PipelineVersionId": pipeline_version_id,
            "ClientRequestToken": client_request_token,
        }
        handle = store.start(
            json.dumps({k: v for k, v in request.items() if v is not None}),
            **self._worker_spec(),
            host=_runtime.host_for_this_thread(),
            external_types=sorted(_runtime.STEP_HANDLERS),
            interpreter=sys.executable,
            image_runners=json.dumps(local_runners.IMAGE_RUNNERS),
            definition=definition,
        )
        _store_roots[handle.arn] = str(store.root)
        _ensure_exit_handling()
        if selective_execution_config is not None:
            recorded = json.loads(store.load_execution(handle.arn)).get("SelectiveExecutionConfig") or {}
            selective_execution_config.resolved_selected_steps = [
                s["StepName"] for s in recorded.get("SelectedSteps", [])
            ]
        return _PipelineExecution(handle.arn, self._session())

    def _engine_plan(self, request, parameters, version, definition) -> Dict[str, Any]:
        from sagepipe import _runtime, local_runners

        return json.loads(
            self._store.plan(
                self.name,
                None if request is None else json.dumps(request),
                json.dumps(_plain_parameters(parameters or {})),
                version,
                external_types=sorted(_runtime.STEP_HANDLERS),
                image_runners=json.dumps(local_runners.IMAGE_RUNNERS),
                definition=definition,
            )
        )

    def _fetch_reads(self, request, parameters, version, definition) -> None:
        """Download what the selected steps read of a SageMaker reference's outputs (the plan's
        ``reads``) into the store, before the run (objects fetched earlier are not fetched again)."""
        reads = _reads(self._engine_plan(request, parameters, version, definition))
        if reads:
            _cloud.fetch(self._store, reads, request["SourcePipelineExecutionArn"])

    def plan(self, selective_execution_config=None, parameters: Dict[str, Any] = None) -> "ExecutionPlan":
        """What a (selective) start would do per step, without running anything (sagepipe extension).

        Each entry says ``run``, ``reuse`` (with the source execution and the artifact URIs),
        ``cache-hit`` (with the run it reuses), ``not-selected``, ``condition-dependent`` or
        ``refused``, with a one-line reason (for changed-step selection: what changed; for caching:
        why it misses; for ``refused``: why the step cannot run locally, as ``start()`` says it).
        The same checks as ``start()`` run first, so an invalid selection raises here too; a step
        that would run but cannot run locally (with the handlers and image runners registered now)
        is ``refused``, and ``plan.refused`` is the error ``start()`` would raise. With a reference
        on SageMaker, a reused step's ``fetch`` says what of its outputs the selected steps read
        and how much of that a start would download (what was fetched before is not).
        """
        store = self._store
        definition = None
        version = None
        if self.steps:
            definition = self.definition()  # built once: large pipelines take a while
            version = self._put("upsert", definition=definition)["LatestVersion"]  # this one, as start() runs it
        request = None
        cfg = selective_execution_config
        if cfg is not None:
            arn = self._reference_execution_arn(cfg)
            request = dict(cfg._engine_request())
            if arn is not None:
                request["SourcePipelineExecutionArn"] = arn
        plan = self._engine_plan(request, parameters, version, definition)
        reads = _reads(plan)
        if reads and _cloud.cloud_region(plan.get("reference_arn")):
            # One listing session for every place; each reused step shows its own.
            listed = {f["uri"]: f for f in _cloud.fetch(store, reads, plan["reference_arn"], download=False)}
            for entry in plan["entries"]:
                if entry.get("reads"):
                    entry["fetch"] = [listed[uri] for uri in entry["reads"]]
        if definition is None:
            definition = store.definition_text(self.name)
        return ExecutionPlan(
            self.name, plan.get("reference_arn"), plan["entries"], definition=definition, refused=plan.get("refused")
        )

    @classmethod
    def from_definition(cls, definition: Union[str, Dict[str, Any]], name: str, sagemaker_session=None):
        """A pipeline whose definition is the given JSON (e.g. made by the SageMaker SDK)."""
        text = definition if isinstance(definition, str) else json.dumps(definition)
        from sagepipe import _core

        _core.compile_definition(text, name)  # fail early with every problem listed
        pipeline = cls(name=name, sagemaker_session=sagemaker_session)  # type: ignore[call-arg]  # Pipeline's
        pipeline._fixed_definition = text
        pipeline.steps = _DefinitionSteps(text)
        return pipeline


class _DefinitionSteps(list):
    """Marks a pipeline built from JSON: its steps live in the definition text."""

    def __init__(self, text: str):
        super().__init__(json.loads(text).get("Steps", []))


def _reads(plan: Dict[str, Any]) -> list:
    """The ``s3://`` places a plan's selected steps read of reused steps' outputs."""
    return sorted({uri for entry in plan["entries"] for uri in entry.get("reads", [])})


def _plain_parameters(parameters: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for k, v in parameters.items():
        if not isinstance(v, (str, bool, int, float)):
            raise ValidationError(
                f"parameter '{k}': expected a str, bool, int or float value, found {type(v).__name__}"
            )
        if isinstance(v, float) and not math.isfinite(v):
            raise ValidationError(f"parameter '{k}': {v} is not a number a pipeline parameter can hold")
        out[k] = v
    return out
