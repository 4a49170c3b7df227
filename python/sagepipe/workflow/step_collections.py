"""Step collections (mirror of ``sagemaker.workflow.step_collections``; base class only)."""

from typing import List, Union

from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import Step


class StepCollection:
    """A wrapper of pipeline steps for workflow.

    Attributes:
        name (str): The name of the `StepCollection`.
        steps (List[Step]): A list of steps.
        depends_on (List[Union[str, Step, StepCollection, StepOutput]]): The steps (or names)
            that the current collection depends on.
    """

    def __init__(
        self,
        name: str,
        steps: List[Step] = None,
        depends_on: List[Union[str, Step, "StepCollection", StepOutput]] = None,
    ):
        self.name = name
        self.steps = steps if steps is not None else []
        self.depends_on = depends_on

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.name, self.steps, self.depends_on) == (other.name, other.steps, other.depends_on)

    __hash__ = None

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(name={self.name!r}, steps={self.steps!r}, "
            f"depends_on={self.depends_on!r})"
        )

    def request_dicts(self) -> List[RequestType]:
        """Get the request structure for workflow service calls."""
        return [step.to_request() for step in self.steps]

    @property
    def properties(self):
        """The properties of the last step of the `StepCollection`."""
        if not self.steps:
            return None
        return self.steps[-1].properties
