"""Pipeline parameters (mirror of ``sagemaker.workflow.parameters``)."""

from enum import Enum
from functools import partial
from typing import Any, Dict, List, Type

from sagepipe.workflow.entities import Entity, PipelineVariable, PrimitiveType, RequestType


class ParameterTypeEnum(Enum):
    """Parameter type enum."""

    STRING = "String"
    INTEGER = "Integer"
    BOOLEAN = "Boolean"
    FLOAT = "Float"

    @property
    def python_type(self) -> Type:
        """Provide the Python type of the enum value."""
        mapping = {
            ParameterTypeEnum.STRING: str,
            ParameterTypeEnum.INTEGER: int,
            ParameterTypeEnum.BOOLEAN: bool,
            ParameterTypeEnum.FLOAT: float,
        }
        return mapping[self]


class Parameter(PipelineVariable, Entity):
    """Pipeline parameter for workflow.

    Attributes:
        name (str): The name of the parameter.
        parameter_type (ParameterTypeEnum): The type of the parameter.
        default_value (PrimitiveType): The default value of the parameter.
    """

    def __init__(
        self,
        name: str = "",
        parameter_type: ParameterTypeEnum = None,
        default_value: PrimitiveType = None,
    ):
        self.name = name
        self.parameter_type = parameter_type
        self.default_value = default_value
        self._check_default_value_type(default_value, self.parameter_type.python_type)

    # attrs-like value semantics (the SDK class is an ``@attr.s`` class)
    def _attr_tuple(self):
        return (self.name, self.parameter_type, self.default_value)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._attr_tuple() == other._attr_tuple()

    def __ne__(self, other):
        result = self.__eq__(other)
        if result is NotImplemented:
            return NotImplemented
        return not result

    __hash__ = None  # type: ignore[assignment]  # attrs eq=True makes the SDK class unhashable

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(name={self.name!r}, parameter_type={self.parameter_type!r}, "
            f"default_value={self.default_value!r})"
        )

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        value = {
            "Name": self.name,
            "Type": self.parameter_type.value,
        }
        if self.default_value is not None:
            value["DefaultValue"] = self.default_value
        return value

    @property
    def expr(self) -> Dict[str, str]:
        """The 'Get' expression dict for a `Parameter`."""
        return Parameter._expr(self.name)

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this parameter depends on."""
        return []

    @classmethod
    def _expr(cls, name):
        """An internal classmethod for the 'Get' expression dict for a `Parameter`."""
        return {"Get": f"Parameters.{name}"}

    @classmethod
    def _check_default_value_type(cls, value, python_type):
        """Check whether the default value is compatible with the parameter type.

        Raises:
            `TypeError` if the value is not compatible with the instance's Python type.
        """
        if value and not isinstance(value, python_type):
            raise TypeError("The default value specified does not match the Parameter Python type.")


# Like the SDK: a partial, so ``ParameterBoolean("X", False)`` raises
# ``TypeError: ... got multiple values for argument 'parameter_type'``.
ParameterBoolean = partial(Parameter, parameter_type=ParameterTypeEnum.BOOLEAN)


class ParameterString(Parameter):
    """String parameter for pipelines."""

    def __init__(self, name: str, default_value: str = None, enum_values: List[str] = None):
        """Create a pipeline string parameter.

        Args:
            name (str): The name of the parameter.
            default_value (str): The default value of the parameter.
            enum_values (List[str]): Enum values for this parameter.
        """
        super().__init__(name=name, parameter_type=ParameterTypeEnum.STRING, default_value=default_value)
        self.enum_values = enum_values

    def __hash__(self):
        """Hash function for parameter types."""
        return hash(tuple(self.to_request()))

    def to_string(self) -> PipelineVariable:
        """ParameterString is treated as String in runtime, no extra actions are needed."""
        return self

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        request_dict = super().to_request()
        if self.enum_values:
            request_dict["EnumValues"] = self.enum_values
        return request_dict


class ParameterInteger(Parameter):
    """Integer parameter for pipelines."""

    def __init__(self, name: str, default_value: int = None):
        """Create a pipeline integer parameter."""
        super().__init__(name=name, parameter_type=ParameterTypeEnum.INTEGER, default_value=default_value)


class ParameterFloat(Parameter):
    """Float parameter for pipelines."""

    def __init__(self, name: str, default_value: float = None):
        """Create a pipeline float parameter."""
        super().__init__(name=name, parameter_type=ParameterTypeEnum.FLOAT, default_value=default_value)
