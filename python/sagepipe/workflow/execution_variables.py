"""Pipeline execution variables (mirror of ``sagemaker.workflow.execution_variables``)."""

from typing import Any, List

from sagepipe.workflow.entities import PipelineVariable, RequestType


class ExecutionVariable(PipelineVariable):
    """Pipeline execution variables for workflow."""

    def __init__(self, name: str):
        """Create a pipeline execution variable.

        Args:
            name (str): The name of the execution variable.
        """
        self.name = name

    def __eq__(self, other):
        """Override default equals method."""
        if not isinstance(other, ExecutionVariable):
            return NotImplemented
        return self.name == other.name

    def __hash__(self):
        return hash(("ExecutionVariable", self.name))

    def __repr__(self):
        return f"ExecutionVariable(name={self.name!r})"

    def to_string(self) -> PipelineVariable:
        """ExecutionVariable is treated as String in runtime, no extra actions are needed."""
        return self

    @property
    def expr(self) -> RequestType:
        """The 'Get' expression dict for an `ExecutionVariable`."""
        return {"Get": f"Execution.{self.name}"}

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this variable depends on."""
        return []


class ExecutionVariables:
    """Provide access to all available execution variables."""

    START_DATETIME = ExecutionVariable("StartDateTime")
    CURRENT_DATETIME = ExecutionVariable("CurrentDateTime")
    PIPELINE_NAME = ExecutionVariable("PipelineName")
    PIPELINE_ARN = ExecutionVariable("PipelineArn")
    PIPELINE_EXECUTION_ID = ExecutionVariable("PipelineExecutionId")
    PIPELINE_EXECUTION_ARN = ExecutionVariable("PipelineExecutionArn")
    TRAINING_JOB_NAME = ExecutionVariable("TrainingJobName")
    PROCESSING_JOB_NAME = ExecutionVariable("ProcessingJobName")
