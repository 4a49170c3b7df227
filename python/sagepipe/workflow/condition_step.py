"""ConditionStep (mirror of ``sagemaker.workflow.condition_step``)."""

import warnings
from typing import List, Optional, Union

from sagepipe.workflow.conditions import Condition
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.functions import JsonGet as NewJsonGet
from sagepipe.workflow.properties import Properties, PropertyFile
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum
from sagepipe.workflow.utilities import list_to_request


class ConditionStep(Step):
    """Conditional step for pipelines to support conditional branching in the execution of steps."""

    def __init__(
        self,
        name: str,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        display_name: str = None,
        description: str = None,
        conditions: List[Condition] = None,
        if_steps: List[Union[Step, StepCollection]] = None,
        else_steps: List[Union[Step, StepCollection]] = None,
    ):
        """Construct a ConditionStep for pipelines to support conditional branching.

        If all of the conditions in the condition list evaluate to True, the `if_steps` are
        marked as ready for execution. Otherwise, the `else_steps` are marked as ready for execution.
        """
        super().__init__(name, display_name, description, StepTypeEnum.CONDITION, depends_on)
        self.conditions = conditions or []
        self.if_steps = if_steps or []
        self.else_steps = else_steps or []

        root_prop = Properties(step_name=name)
        root_prop.__dict__["Outcome"] = Properties(step_name=name, path="Outcome")
        self._properties = root_prop

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to define the conditional branching in the pipeline."""
        return dict(
            Conditions=[condition.to_request() for condition in self.conditions],
            IfSteps=list_to_request(self.if_steps),
            ElseSteps=list_to_request(self.else_steps),
        )

    @property
    def step_only_arguments(self):
        """Argument dict pertaining to the step only, and not the `if_steps` or `else_steps`."""
        return dict(Conditions=[condition.to_request() for condition in self.conditions])

    @property
    def properties(self):
        """A simple Properties object with `Outcome` as the only property."""
        return self._properties


class JsonGet(NewJsonGet):  # pragma: no cover
    """Deprecated: use ``sagepipe.workflow.functions.JsonGet``.

    Attributes:
        step (Step): The step from which to get the property file.
        property_file (Union[PropertyFile, str]): Either a PropertyFile instance or its name.
        json_path (str): The JSON path expression to the requested value.
    """

    def __init__(self, step: Step, property_file: Union[PropertyFile, str], json_path: str):
        warnings.warn(
            "The class JsonGet has been deprecated in sagemaker>=2.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(step_name=step.name, property_file=property_file, json_path=json_path)
