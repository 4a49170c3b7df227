"""``_PipelineExecution``: an execution of a pipeline, read from the local store (describe,
steps, parameters, wait, stop, result, logs), with boto3's response shapes."""

import json
import sys
import time
from typing import Any, Dict, List, Optional, Set

from sagepipe import _responses
from sagepipe.workflow import _interrupts
from sagepipe.workflow._store_access import _default_session, _store_of, execution_steps


class _PipelineExecution:
    """An execution of a pipeline, read from the local store (mirror of the SDK's class).

    Args:
        arn: The execution ARN.
        sagemaker_session: The session whose store holds the execution.
    """

    def __init__(self, arn: str, sagemaker_session: Any = None):
        self.arn = arn
        self.sagemaker_session = sagemaker_session or _default_session()
        self._function_steps: Optional[Set[str]] = None  # from the execution's definition, read once

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
            if _interrupts.interactive() and not _responses.is_terminal(self._record()["PipelineExecutionStatus"]):
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
        about every ``_interrupts.TICK`` seconds."""
        from sagepipe import _core

        handle = _core.live_execution(self.arn)
        deadline = time.monotonic() + limit
        seen = _interrupts.sigint_count()
        while True:
            _interrupts._raise_if_interrupted_since(seen)
            remaining = max(deadline - time.monotonic(), 0.0)
            if handle is not None:
                finished = handle.wait(min(_interrupts.TICK, remaining))
            else:
                finished = _responses.is_terminal(self._record()["PipelineExecutionStatus"])
                if not finished:
                    time.sleep(min(_interrupts.TICK, remaining))
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
        if self._function_steps is None:  # an execution's definition never changes: compile it once
            steps = execution_steps(self._store, self.arn, self._record()["PipelineName"])
            self._function_steps = {s["name"] for s in steps if s["function"]}
        if step_name not in self._function_steps:
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
