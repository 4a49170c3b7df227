"""The service side of ``Pipeline`` (create, start, list...) and ``_PipelineExecution``, backed
by the local store and engine instead of the SageMaker API. Response shapes are boto3's."""

import atexit
import json
import math
import os
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Union

from sagepipe import _responses
from sagepipe.exceptions import ResourceNotFoundError, ValidationError
from sagepipe.workflow._store_access import _default_session, _store_of, execution_steps

_TERMINAL = _responses.TERMINAL
_TICK = 0.2  # seconds between progress refreshes while waiting
_atexit_lock = threading.Lock()
_atexit_registered = False


# ---- Ctrl-C and interpreter exit ----

STOP_GRACE = 3.0  # seconds a Ctrl-C waits for stopped executions to end before the process exits
_interrupted: Dict[str, str] = {}  # executions stopped because of Ctrl-C -> their store root
_store_roots: Dict[str, str] = {}  # executions this process started -> their store root
_reported = False  # whether the Ctrl-C summary line was printed
# Ctrl-Cs seen by _on_sigint. Its KeyboardInterrupt can be lost (raised inside a weakref callback
# or __del__, Python only prints "Exception ignored"), so loops that wait raise it again.
_sigint_count = 0


def interactive() -> bool:
    """Whether this is a REPL or notebook (there, Ctrl-C stops waiting, not the executions)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    ipython = sys.modules.get("IPython")
    return bool(ipython is not None and getattr(ipython, "get_ipython", lambda: None)())


def _stop_live_executions() -> None:
    """Ask every execution this process runs to stop (their running steps are killed)."""
    from sagepipe import _core

    for arn in _core.live_executions():
        handle = _core.live_execution(arn)
        if handle is not None:
            handle.stop()
        _interrupted.setdefault(arn, _store_roots.get(arn, ""))


def _on_sigint(signum, frame) -> None:
    """Ctrl-C in a script stops the executions it runs, then interrupts it as usual."""
    global _sigint_count
    _sigint_count += 1
    _stop_live_executions()
    raise KeyboardInterrupt


def _raise_if_interrupted_since(count: int) -> None:
    """Raise the KeyboardInterrupt of a Ctrl-C seen after ``count`` if Python lost it."""
    if _sigint_count != count:
        raise KeyboardInterrupt


def _quiet_interrupt_hook(hook):
    """``sys.excepthook`` that prints no traceback for a Ctrl-C that stopped executions (the
    one-line summary follows at exit), and defers to ``hook`` for everything else."""

    def excepthook(exc_type, exc, tb):
        if not (_interrupted and issubclass(exc_type, KeyboardInterrupt)):
            hook(exc_type, exc, tb)

    return excepthook


def _install_interrupt_handling() -> None:
    """Make Ctrl-C stop this script's executions: not in a REPL or notebook, not off the main
    thread, and never over a SIGINT handler the program installed itself."""
    import signal

    if interactive() or threading.current_thread() is not threading.main_thread():
        return  # (signal handlers can only be set from the main thread)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
        sys.excepthook = _quiet_interrupt_hook(sys.excepthook)


def settle_interrupted(grace: float = STOP_GRACE) -> Optional[str]:
    """After a Ctrl-C: stop what still runs, wait up to ``grace`` seconds for it to end, and
    say in one line what was stopped (None if nothing ran). A second Ctrl-C stops the wait."""
    from sagepipe import _core

    _stop_live_executions()
    if not _interrupted:
        return None
    deadline = time.monotonic() + grace
    try:
        for arn in _interrupted:
            handle = _core.live_execution(arn)
            if handle is not None:
                handle.wait(max(deadline - time.monotonic(), 0.0))
    except KeyboardInterrupt:
        pass
    parts = []
    for arn, root in _interrupted.items():
        steps = _unfinished_steps(arn, root)
        part = arn + (f" (steps stopped: {', '.join(steps)})" if steps else "")
        if _core.live_execution(arn) is not None:
            part += f"; not ended after {grace:g} s: this process exits without waiting (the store records it Stopped)"
        parts.append(part)
    plural = "s" if len(parts) > 1 else ""
    return f"sagepipe: Ctrl-C stopped execution{plural} {'; '.join(parts)}"


def _unfinished_steps(arn: str, store_root: str) -> List[str]:
    """The steps of an execution that did not succeed or fail: those the stop ended."""
    from sagepipe import _core

    try:
        records = json.loads(_core.Store(store_root).load_steps(arn))
    except Exception:  # noqa: BLE001 - the summary line must not fail the exit
        return []
    return [r["StepName"] for r in records if r["StepStatus"] not in ("Succeeded", "Failed")]


def report_interrupt(line: Optional[str], code: int = 130) -> None:
    """Print the Ctrl-C summary (once), and leave at once if a stopped step still runs (an
    in-process step blocked outside Python): finalizing the interpreter would wait for it."""
    global _reported
    from sagepipe import _core

    if line and not _reported:
        print(line, file=sys.stderr, flush=True)
        _reported = True
    if _core.live_executions():
        sys.stdout.flush()
        os._exit(code)


def _drain_live_executions() -> None:
    """At interpreter exit, let executions this process started finish (Ctrl-C stops them)."""
    from sagepipe import _core

    # Executions started after a Ctrl-C the script caught are waited for like any other.
    arns = [arn for arn in _core.live_executions() if arn not in _interrupted]
    if arns:
        print(
            f"sagepipe: waiting for {len(arns)} unfinished execution(s) to end (Ctrl-C stops them): " + ", ".join(arns),
            file=sys.stderr,
            flush=True,
        )
    seen = _sigint_count
    try:
        for arn in arns:
            handle = _core.live_execution(arn)
            while handle is not None and not handle.wait(_TICK):
                _raise_if_interrupted_since(seen)
    except KeyboardInterrupt:
        pass
    if _interrupted or _core.live_executions():
        report_interrupt(settle_interrupted())


def _ensure_exit_handling() -> None:
    """Once executions run: wait for them at interpreter exit, and let Ctrl-C stop them."""
    global _atexit_registered
    with _atexit_lock:
        if not _atexit_registered:
            atexit.register(_drain_live_executions)
            _atexit_registered = True
    _install_interrupt_handling()


def _parallelism_request(config: Any) -> Optional[Dict[str, Any]]:
    if config is None:
        return None
    to_request = getattr(config, "to_request", None)  # a ParallelismConfiguration object
    return to_request() if callable(to_request) else config  # anything else is checked by the store


class _PipelineExecution:
    """An execution of a pipeline, read from the local store (mirror of the SDK's class).

    Args:
        arn: The execution ARN.
        sagemaker_session: The session whose store holds the execution.
    """

    def __init__(self, arn: str, sagemaker_session: Any = None):
        self.arn = arn
        self.sagemaker_session = sagemaker_session or _default_session()

    def __repr__(self) -> str:
        return f"_PipelineExecution(arn={self.arn!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, _PipelineExecution) and other.arn == self.arn

    def __hash__(self) -> int:
        return hash(self.arn)

    def _repr_html_(self) -> str:
        """Jupyter view: the DAG coloured by step state, and the steps (``sagepipe.display``)."""
        from sagepipe.display import execution_html

        return execution_html(self)

    @property
    def _store(self):
        return _store_of(self.sagemaker_session)

    def _record(self) -> Dict[str, Any]:
        return json.loads(self._store.load_execution(self.arn))

    def describe(self) -> Dict[str, Any]:
        """``DescribePipelineExecution`` for this execution."""
        return _responses.execution_description(self._record())

    def list_steps(self) -> List[Dict[str, Any]]:
        """The steps that started, newest first, as the service lists them."""
        return _responses.steps_newest_first(json.loads(self._store.load_steps(self.arn)))

    def list_parameters(self, max_results: Optional[int] = None, next_token: Optional[str] = None) -> Dict[str, Any]:
        """``ListPipelineParametersForExecution``: every parameter with its effective value."""
        params = _responses.parameters_list(self._record())
        out = _responses.page(params, "PipelineParameters", max_results, next_token)
        out["ResponseMetadata"] = dict(_responses.RESPONSE_METADATA)
        return out

    def wait(self, delay: int = 30, max_attempts: int = 60, *, progress: Optional[bool] = None) -> None:
        """Wait until the execution ends (Succeeded, Failed or Stopped).

        Unlike the SDK's waiter this returns normally for Failed and Stopped; inspect
        ``describe()["PipelineExecutionStatus"]``. Raises ``TimeoutError`` after
        ``delay * max_attempts`` seconds, like the SDK's waiter gives up.

        Args:
            delay: Seconds between the SDK waiter's polls (only the time limit matters here).
            max_attempts: Polls before giving up (time limit: ``delay * max_attempts``).
            progress: Show the steps' states while waiting (sagepipe extension, keyword only):
                ``None`` shows them when interactive (a terminal on stderr, or a notebook) unless
                ``SAGEPIPE_PROGRESS=0``; ``True`` also when not interactive (plain lines);
                ``False`` never.
        """
        from sagepipe import _progress

        limit = float(delay) * float(max_attempts)
        view = _progress.open_view(self, progress)
        try:
            try:
                finished = self._wait_until_done(limit, view.tick if view else None)
            finally:
                if view:
                    view.close()
        except KeyboardInterrupt:
            # In a script, Ctrl-C stopped the execution already (see _on_sigint); in a REPL or
            # notebook it only stops the waiting.
            if interactive() and self._record()["PipelineExecutionStatus"] not in _TERMINAL:
                print(
                    f"sagepipe: stopped waiting; execution {self.arn} goes on in the background "
                    "(execution.stop() stops it)",
                    file=sys.stderr,
                    flush=True,
                )
            raise
        if not finished:
            raise TimeoutError(f"execution {self.arn} still running after {limit:.0f} s")

    def _wait_until_done(self, limit: float, on_tick=None) -> bool:
        """Block until the execution ends (False after ``limit`` seconds), calling ``on_tick``
        about every ``_TICK`` seconds."""
        from sagepipe import _core

        handle = _core.live_execution(self.arn)
        deadline = time.monotonic() + limit
        seen = _sigint_count
        while True:
            _raise_if_interrupted_since(seen)
            remaining = max(deadline - time.monotonic(), 0.0)
            if handle is not None:
                finished = handle.wait(min(_TICK, remaining))
            else:
                finished = self._record()["PipelineExecutionStatus"] in _TERMINAL
                if not finished:
                    time.sleep(min(_TICK, remaining))
            if on_tick is not None:
                on_tick()
            if finished:
                return True
            if time.monotonic() >= deadline:
                return False

    def stop(self) -> Dict[str, Any]:
        """Stop the execution: nothing new starts and running steps are killed."""
        from sagepipe import _core

        handle = _core.live_execution(self.arn)
        if handle is not None:
            handle.stop()
        else:
            self._store.request_stop(self.arn)  # the owning process's scheduler stops it
        return {"PipelineExecutionArn": self.arn}

    def _step_record(self, step_name: str) -> Dict[str, Any]:
        records = json.loads(self._store.load_steps(self.arn))
        for rec in records:
            if rec["StepName"] == step_name:
                return rec
        names = [r["StepName"] for r in records]
        raise ValueError(f"step '{step_name}' did not run in execution {self.arn}; steps that ran: {names}")

    def result(self, step_name: str) -> Any:
        """The return value of a ``@step`` function step of this execution.

        Waits for the execution first. If the step raised, its original exception is raised
        again (when it could be pickled), else a ``StepFailedError`` with the traceback.
        """
        from sagepipe.workflow._step_results import step_result

        self.wait()
        rec = self._step_record(step_name)
        steps = execution_steps(self._store, self.arn, self._record()["PipelineName"])
        if not any(s["name"] == step_name and s["function"] for s in steps):
            raise ValueError("This method can only be used on pipeline steps created using @step decorator.")
        return step_result(self._store, rec)

    def logs(self, step_name: str) -> str:
        """What the step printed (stdout and stderr), from the store."""
        path = self._store.log_path(self.arn, step_name)
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class _PipelineService:
    """create/update/upsert/describe/delete/start/list_executions for ``Pipeline``."""

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
        records = _responses.sorted_executions(json.loads(self._store.list_executions(self.name)), sort_by, sort_order)
        summaries = [_responses.execution_summary(r) for r in records]
        return _responses.page(summaries, "PipelineExecutionSummaries", max_results, next_token)

    def _get_latest_execution_arn(self) -> Optional[str]:
        summaries = self.list_executions(sort_by="CreationTime", sort_order="Descending", max_results=1)
        items = summaries["PipelineExecutionSummaries"]
        return items[0]["PipelineExecutionArn"] if items else None

    def _reference_execution_arn(self, config: Any) -> Optional[str]:
        """The execution a selective run of ``config`` compares with: its source ARN, else
        (``reference_latest_execution``) this pipeline's latest execution, else None."""
        if config.source_pipeline_execution_arn is None and config.reference_latest_execution:
            return self._get_latest_execution_arn()
        return config.source_pipeline_execution_arn

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
        if self.steps:
            self._prewarm_workers()
            stored = self._put("upsert")
            if pipeline_version_id is None:
                # The version holding this definition: "the latest" may already be another
                # process's definition of the same pipeline.
                pipeline_version_id = stored["LatestVersion"]
        else:
            store.load_pipeline(self.name)  # raises ResourceNotFoundError when unknown
        selective = None
        if selective_execution_config is not None:
            reference = self._reference_execution_arn(selective_execution_config)
            selective_execution_config.source_pipeline_execution_arn = reference
            selective = selective_execution_config._engine_request()
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
        )
        _store_roots[handle.arn] = str(store.root)
        _ensure_exit_handling()
        if selective_execution_config is not None:
            recorded = json.loads(store.load_execution(handle.arn)).get("SelectiveExecutionConfig") or {}
            selective_execution_config.resolved_selected_steps = [
                s["StepName"] for s in recorded.get("SelectedSteps", [])
            ]
        return _PipelineExecution(handle.arn, self._session())

    def plan(self, selective_execution_config=None, parameters: Dict[str, Any] = None) -> "ExecutionPlan":
        """What a (selective) start would do per step, without running anything (sagepipe extension).

        Each entry says ``run``, ``reuse`` (with the source execution and the artifact URIs),
        ``cache-hit`` (with the run it reuses), ``not-selected``, ``condition-dependent`` or
        ``refused``, with a one-line reason (for changed-step selection: what changed; for caching:
        why it misses; for ``refused``: why the step cannot run locally, as ``start()`` says it).
        The same checks as ``start()`` run first, so an invalid selection raises here too; a step
        that would run but cannot run locally (with the handlers and image runners registered now)
        is ``refused``, and ``plan.refused`` is the error ``start()`` would raise.
        """
        from sagepipe import _runtime, local_runners

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
        plan = json.loads(
            store.plan(
                self.name,
                None if request is None else json.dumps(request),
                json.dumps(_plain_parameters(parameters or {})),
                version,
                external_types=sorted(_runtime.STEP_HANDLERS),
                image_runners=json.dumps(local_runners.IMAGE_RUNNERS),
            )
        )
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
        pipeline = cls(name=name, sagemaker_session=sagemaker_session)
        pipeline._fixed_definition = text
        pipeline.steps = _DefinitionSteps(text)
        return pipeline


class ExecutionPlan:
    """What a start would do, per step: a plain data structure (``entries``) that prints readably.

    ``refused`` is ``None``, or the error message ``start()`` would raise (``UnsupportedStepError``)
    because steps that would run cannot run locally; those entries have the action ``refused``.
    """

    def __init__(
        self,
        pipeline: str,
        reference_arn: Optional[str],
        entries: List[Dict[str, Any]],
        definition: Optional[str] = None,
        refused: Optional[str] = None,
    ):
        self.pipeline = pipeline
        self.reference_arn = reference_arn
        self.entries = entries
        self.definition = definition
        self.refused = refused

    def _repr_html_(self) -> Optional[str]:
        """Jupyter view: the DAG coloured by what the run would do (``sagepipe.display``)."""
        from sagepipe.display import plan_html

        return plan_html(self) if self.definition else None

    def actions(self) -> Dict[str, str]:
        """``{step name: action}``."""
        return {e["step"]: e["action"] for e in self.entries}

    def __getitem__(self, step: str) -> Dict[str, Any]:
        for e in self.entries:
            if e["step"] == step:
                return e
        raise KeyError(step)

    def __str__(self) -> str:
        width = max([len(e["step"]) for e in self.entries] + [4])
        lines = [
            f"plan for pipeline '{self.pipeline}'"
            + (f" (reference {self.reference_arn})" if self.reference_arn else "")
        ]
        for e in self.entries:
            lines.append(f"  {e['step']:<{width}}  {e['action']:<20} {e['reason']}")
            for uri in e.get("artifacts", []):
                lines.append(f"  {'':<{width}}  {'':<20} reuses {uri}")
        if self.refused:
            # The reasons are on the entries above; the summary names the steps.
            refused = [e["step"] for e in self.entries if e["action"] == "refused"]
            lines.append(
                f"this run would be refused before anything runs: {len(refused)} step"
                f"{'' if len(refused) == 1 else 's'} cannot run locally ({', '.join(refused)})"
            )
        return "\n".join(lines)

    __repr__ = __str__


class _DefinitionSteps(list):
    """Marks a pipeline built from JSON: its steps live in the definition text."""

    def __init__(self, text: str):
        super().__init__(json.loads(text).get("Steps", []))


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


__all__ = ["_PipelineExecution", "_PipelineService", "ResourceNotFoundError"]
