"""FailStep (mirror of ``sagemaker.workflow.fail_step``)."""

from typing import List, Optional, Union

from sagepipe.workflow.entities import PipelineVariable, RequestType
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum


class FailStep(Step):
    """`FailStep` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        name: str,
        error_message: Optional[Union[str, PipelineVariable]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Constructs a `FailStep`.

        Args:
            name (str): The name of the `FailStep`.
            error_message (str or PipelineVariable): the failure reason once the step is reached.
            display_name (str): The display name of the `FailStep`.
            description (str): The description of the `FailStep`.
            depends_on (List[Union[str, Step, StepCollection]]): explicit dependencies.
        """
        super().__init__(name, display_name, description, StepTypeEnum.FAIL, depends_on)
        self.error_message = error_message if error_message is not None else ""

    @property
    def arguments(self) -> RequestType:
        """The arguments dictionary that is used to define the `FailStep`."""
        return dict(ErrorMessage=self.error_message)

    @property
    def properties(self):
        """A `Properties` object is not available for the `FailStep`."""
        raise RuntimeError("FailStep is a terminal step and the Properties object is not available for it.")
