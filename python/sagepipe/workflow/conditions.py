"""Conditions for condition steps (mirror of ``sagemaker.workflow.conditions``)."""

import abc
from enum import Enum
from typing import Any, Dict, List, Union

from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import (
    DefaultEnumMeta,
    Entity,
    Expression,
    PipelineVariable,
    PrimitiveType,
    RequestType,
    ValueObject,
)
from sagepipe.workflow.execution_variables import ExecutionVariable
from sagepipe.workflow.parameters import Parameter
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_outputs import StepOutput

ConditionValueType = Union[ExecutionVariable, Parameter, Properties, StepOutput, PipelineVariable]


class ConditionTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """Condition type enum."""

    EQ = "Equals"
    GT = "GreaterThan"
    GTE = "GreaterThanOrEqualTo"
    IN = "In"
    LT = "LessThan"
    LTE = "LessThanOrEqualTo"
    NOT = "Not"
    OR = "Or"


class Condition(ValueObject, Entity):
    """Abstract Condition entity.

    Attributes:
        condition_type (ConditionTypeEnum): The type of condition.
    """

    def __init__(self, condition_type: ConditionTypeEnum = None):
        self.condition_type = condition_type if condition_type is not None else ConditionTypeEnum.factory()

    @property
    @abc.abstractmethod
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this condition depends on."""


class ConditionComparison(Condition):
    """Generic comparison condition.

    Attributes:
        left (Union[ConditionValueType, PrimitiveType]): The value to use in the comparison.
        right (Union[ConditionValueType, PrimitiveType]): The value to compare to.
    """

    def __init__(
        self,
        condition_type: ConditionTypeEnum = None,
        left: Union[ConditionValueType, PrimitiveType] = None,
        right: Union[ConditionValueType, PrimitiveType] = None,
    ):
        super().__init__(condition_type)
        self.left = left
        self.right = right

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        return {
            "Type": self.condition_type.value,
            "LeftValue": self.left,
            "RightValue": self.right,
        }

    @property
    def _referenced_steps(self) -> List[Any]:
        steps = []
        if isinstance(self.left, PipelineVariable):
            steps.extend(self.left._referenced_steps)
        if isinstance(self.right, PipelineVariable):
            steps.extend(self.right._referenced_steps)
        return steps


class ConditionEquals(ConditionComparison):
    """A condition for equality comparisons."""

    def __init__(
        self,
        left: Union[ConditionValueType, PrimitiveType],
        right: Union[ConditionValueType, PrimitiveType],
    ):
        super().__init__(ConditionTypeEnum.EQ, left, right)


class ConditionGreaterThan(ConditionComparison):
    """A condition for greater than comparisons."""

    def __init__(
        self,
        left: Union[ConditionValueType, PrimitiveType],
        right: Union[ConditionValueType, PrimitiveType],
    ):
        super().__init__(ConditionTypeEnum.GT, left, right)


class ConditionGreaterThanOrEqualTo(ConditionComparison):
    """A condition for greater than or equal to comparisons."""

    def __init__(
        self,
        left: Union[ConditionValueType, PrimitiveType],
        right: Union[ConditionValueType, PrimitiveType],
    ):
        super().__init__(ConditionTypeEnum.GTE, left, right)


class ConditionLessThan(ConditionComparison):
    """A condition for less than comparisons."""

    def __init__(
        self,
        left: Union[ConditionValueType, PrimitiveType],
        right: Union[ConditionValueType, PrimitiveType],
    ):
        super().__init__(ConditionTypeEnum.LT, left, right)


class ConditionLessThanOrEqualTo(ConditionComparison):
    """A condition for less than or equal to comparisons."""

    def __init__(
        self,
        left: Union[ConditionValueType, PrimitiveType],
        right: Union[ConditionValueType, PrimitiveType],
    ):
        super().__init__(ConditionTypeEnum.LTE, left, right)


class ConditionIn(Condition):
    """A condition to check membership."""

    def __init__(
        self,
        value: Union[ConditionValueType, PrimitiveType],
        in_values: List[Union[ConditionValueType, PrimitiveType]],
    ):
        super().__init__(ConditionTypeEnum.IN)
        self.value = value
        self.in_values = in_values

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        return {
            "Type": self.condition_type.value,
            "QueryValue": self.value,
            "Values": self.in_values,
        }

    @property
    def _referenced_steps(self) -> List[Any]:
        steps = []
        if isinstance(self.value, PipelineVariable):
            steps.extend(self.value._referenced_steps)
        for in_value in self.in_values:
            if isinstance(in_value, PipelineVariable):
                steps.extend(in_value._referenced_steps)
        return steps


class ConditionNot(Condition):
    """A condition for negating another `Condition`."""

    def __init__(self, expression: Condition):
        super().__init__(ConditionTypeEnum.NOT)
        self.expression = expression

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        return {"Type": self.condition_type.value, "Condition": self.expression.to_request()}

    @property
    def _referenced_steps(self) -> List[Any]:
        return self.expression._referenced_steps


class ConditionOr(Condition):
    """A condition for taking the logical OR of a list of `Condition` instances."""

    def __init__(self, conditions: List[Condition] = None):
        super().__init__(ConditionTypeEnum.OR)
        self.conditions = conditions or []

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        return {
            "Type": self.condition_type.value,
            "Conditions": [condition.to_request() for condition in self.conditions],
        }

    @property
    def _referenced_steps(self) -> List[Any]:
        steps = []
        for condition in self.conditions:
            steps.extend(condition._referenced_steps)
        return steps


def primitive_or_expr(
    value: Union[ExecutionVariable, Expression, PrimitiveType, Parameter, Properties, StepOutput],
) -> Union[Dict[str, str], PrimitiveType]:
    """Provide the expression of the value or return value if it is a primitive."""
    if is_pipeline_variable(value):
        return value.expr
    return value
