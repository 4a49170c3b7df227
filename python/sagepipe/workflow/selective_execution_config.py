"""Selective execution configuration (mirror of ``sagemaker.workflow.selective_execution_config``)."""

from typing import List, Optional

from sagepipe.workflow.entities import RequestType


class SelectiveExecutionConfig:
    """The selective execution configuration.

    Defines a subset of pipeline steps to run in another pipeline run. No validation is done here.

    sagepipe extensions (they never appear in ``to_request()``, which stays the SDK's):

    - shorthands in ``selected_steps``: ``"Train+"`` (Train and everything downstream),
      ``"+Evaluate"`` (Evaluate and everything upstream), ``"+X+"`` (both) and ``"A..B"`` (every
      step on a path from A to B). SageMaker step names cannot contain ``+`` or ``.``, so these
      never clash with a real name.
    - ``strict=True`` also enforces the service's limits (at most 50 selected steps, a weakly
      connected selection), so what passes locally passes on SageMaker.
    - :meth:`changed_steps` selects what changed since the reference; :meth:`from_failed_execution`
      resumes a failed run.

    After ``start()``, ``source_pipeline_execution_arn`` holds the reference used (as in the SDK)
    and ``resolved_selected_steps`` the step names that were selected.
    """

    def __init__(
        self,
        selected_steps: Optional[List[str]],
        reference_latest_execution: bool = True,
        source_pipeline_execution_arn: Optional[str] = None,
        *,
        strict: bool = False,
    ):
        """Create a `SelectiveExecutionConfig`.

        Args:
            selected_steps (List[str]): A list of pipeline steps to run. All step(s) in all
                path(s) between two selected steps should be included.
            reference_latest_execution (bool): Whether to reference the latest execution if
                `source_pipeline_execution_arn` is not provided (client side only).
            source_pipeline_execution_arn (str): The ARN of a reference execution of the
                current pipeline (`Stopped`, `Failed`, or `Succeeded`).
        """
        self.source_pipeline_execution_arn = source_pipeline_execution_arn
        self.selected_steps = selected_steps
        self.reference_latest_execution = reference_latest_execution
        self.strict = strict
        self.select_changed = False
        self.resolved_selected_steps: Optional[List[str]] = None

    def _build_selected_steps_from_list(self) -> RequestType:
        """Get the request structure for the list of selected steps."""
        selected_step_list = []
        for selected_step in self.selected_steps:
            selected_step_list.append(dict(StepName=selected_step))
        return selected_step_list

    def to_request(self) -> RequestType:
        """Convert `SelectiveExecutionConfig` object to request dict."""
        request = {}
        if self.source_pipeline_execution_arn is not None:
            request["SourcePipelineExecutionArn"] = self.source_pipeline_execution_arn
        if self.selected_steps is not None:
            request["SelectedSteps"] = self._build_selected_steps_from_list()
        return request

    def _engine_request(self) -> RequestType:
        """``to_request()`` plus sagepipe's own keys, as the local engine reads it."""
        request = self.to_request()
        if self.strict:
            request["Strict"] = True
        if self.select_changed:
            request["SelectChangedSteps"] = True
            request.pop("SelectedSteps", None)
        return request

    @classmethod
    def changed_steps(
        cls,
        source_pipeline_execution_arn: Optional[str] = None,
        reference_latest_execution: bool = True,
        *,
        strict: bool = False,
    ) -> "SelectiveExecutionConfig":
        """Select the steps whose inputs changed since the reference, plus everything downstream
        (sagepipe extension); the rest is reused from the reference.

        A step changed when its arguments after parameter resolution differ from the reference
        run's, or the content of the code it runs does (scripts, ``source_dir``, and for ``@step``
        functions the function's source plus the project-local modules it uses; comment- and
        whitespace-only edits do not count), or it did not succeed in the reference. The selection
        is decided when the pipeline starts (or is planned); ``pipeline.plan(...)`` says why each
        step was selected.

        Args:
            source_pipeline_execution_arn: The reference execution to compare with.
            reference_latest_execution: Without an ARN, compare with the latest execution.
            strict: Also enforce the service's selection limits.
        """
        cfg = cls(
            selected_steps=None,
            reference_latest_execution=reference_latest_execution,
            source_pipeline_execution_arn=source_pipeline_execution_arn,
            strict=strict,
        )
        cfg.select_changed = True
        return cfg

    def __repr__(self) -> str:
        what = "changed steps" if self.select_changed else repr(self.selected_steps)
        return (
            f"SelectiveExecutionConfig({what}, source_pipeline_execution_arn={self.source_pipeline_execution_arn!r}"
            f"{', strict=True' if self.strict else ''})"
        )

    @classmethod
    def from_failed_execution(cls, execution_arn: str, sagemaker_session=None) -> "SelectiveExecutionConfig":
        """Resume a failed or stopped execution in one call (sagepipe extension).

        Selects every step that did not succeed in that execution (failed, stopped, or never
        started), except steps on a ConditionStep branch it did not take, plus everything
        downstream; the execution itself is the reference, so the steps that succeeded are reused.

        Args:
            execution_arn: The execution to resume: one here, or on SageMaker (recorded in the
                store first; its pipeline must be stored here, as ``start()`` does).
            sagemaker_session: The session whose store holds it (default: the default store).
        """
        from sagepipe.workflow._store_access import _default_session, _store_of

        store = _store_of(sagemaker_session or _default_session())
        from sagepipe import _cloud, _core

        parsed = _core.parse_execution_arn(execution_arn)
        if parsed is not None and _cloud.cloud_region(execution_arn):
            # An execution on SageMaker: recorded in the store (under its pipeline, stored here) first.
            _cloud.import_execution(store, parsed[0], execution_arn)
        steps = store.resume_selection(execution_arn)
        if not steps:
            raise ValueError(f"execution {execution_arn} has no step left to resume: every step succeeded")
        return cls(selected_steps=steps, source_pipeline_execution_arn=execution_arn)
