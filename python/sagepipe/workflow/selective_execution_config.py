"""Selective execution configuration (mirror of ``sagemaker.workflow.selective_execution_config``)."""

from typing import List, Optional

from sagepipe.workflow.entities import RequestType


class SelectiveExecutionConfig:
    """The selective execution configuration.

    Defines a subset of pipeline steps to run in another pipeline run. No validation is done here.
    """

    def __init__(
        self,
        selected_steps: List[str],
        reference_latest_execution: bool = True,
        source_pipeline_execution_arn: Optional[str] = None,
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

    @classmethod
    def from_failed_execution(cls, execution_arn: str, sagemaker_session=None) -> "SelectiveExecutionConfig":
        """Resume a failed or stopped execution in one call (sagepipe extension).

        Selects every step that did not succeed in that execution (failed, stopped, or never
        started), except steps on a ConditionStep branch it did not take, plus everything
        downstream; the execution itself is the reference, so the steps that succeeded are reused.

        Args:
            execution_arn: The execution to resume.
            sagemaker_session: The session whose store holds it (default: the default store).
        """
        from sagepipe.workflow._execution import _default_session, _store_of

        store = _store_of(sagemaker_session or _default_session())
        steps = store.resume_selection(execution_arn)
        if not steps:
            raise ValueError(f"execution {execution_arn} has no step left to resume: every step succeeded")
        return cls(selected_steps=steps, source_pipeline_execution_arn=execution_arn)
