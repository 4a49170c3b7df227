"""Base class representing step outputs (mirror of ``sagemaker.workflow.step_outputs``)."""

import abc
from typing import TYPE_CHECKING, Any, List

from sagepipe.workflow.entities import PipelineVariable, RequestType

if TYPE_CHECKING:
    from sagepipe.workflow.steps import Step


class StepOutput(PipelineVariable):
    """Base class representing ``@step`` decorator outputs and step properties."""

    def __init__(self, step: "Step" = None):
        """Initializes a `StepOutput` object.

        Args:
            step: A `sagepipe.workflow.steps.Step` instance.
        """
        self._step = step

    def __repr__(self):
        """Formatted representation of the output class."""
        return str(self.__dict__)

    @property
    @abc.abstractmethod
    def expr(self) -> RequestType:
        """Get the expression structure for workflow service calls."""

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this output depends on."""
        return []


def get_step(step_output: StepOutput):
    """Get the step associated with this output.

    Args:
        step_output: A `StepOutput` instance.

    Returns:
        A `sagepipe.workflow.steps.Step` instance.
    """
    return step_output._step
