"""Defines the base entities used in workflow (mirror of ``sagemaker.workflow.entities``)."""

import abc
from enum import Enum, EnumMeta
from typing import Any, Dict, List, Union

PrimitiveType = Union[str, int, bool, float, None]
RequestType = Union[Dict[str, Any], List[Dict[str, Any]]]


class Entity(abc.ABC):
    """Base object for workflow entities.

    Entities must implement the to_request method.
    """

    @abc.abstractmethod
    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""


class DefaultEnumMeta(EnumMeta):
    """An EnumMeta which defaults to the first value in the Enum list.

    ``MyEnum.factory()`` (or ``MyEnum()``) returns the first member. Unlike the SDK, a positional
    value (``MyEnum("x")``) performs the normal by-value lookup instead of silently returning the
    first member.
    """

    default = object()

    def __call__(cls, *args, value=default, **kwargs):
        """Defaults to the first value in the Enum list."""
        if value is DefaultEnumMeta.default:
            if not args and not kwargs:
                return next(iter(cls))
            return super().__call__(*args, **kwargs)
        return super().__call__(value, *args, **kwargs)

    factory = __call__


class Expression(abc.ABC):
    """Base object for expressions.

    Expressions must implement the expr property.
    """

    @property
    @abc.abstractmethod
    def expr(self) -> RequestType:
        """Get the expression structure for workflow service calls."""


class PipelineVariable(Expression):
    """Base object for pipeline variables.

    Subclasses include Parameter, Properties, Join, JsonGet and ExecutionVariable.
    """

    def __add__(self, other: Union[Expression, PrimitiveType]):
        """Always raise an error since pipeline variables do not support concatenation."""
        raise TypeError("Pipeline variables do not support concatenation.")

    def __str__(self):
        """Override built-in String function for PipelineVariable."""
        raise TypeError(
            "Pipeline variables do not support __str__ operation. "
            "Please use `.to_string()` to convert it to string type in execution time"
            "or use `.expr` to translate it to Json for display purpose in Python SDK."
        )

    def __int__(self):
        """Override built-in Integer function for PipelineVariable."""
        raise TypeError("Pipeline variables do not support __int__ operation.")

    def __float__(self):
        """Override built-in Float function for PipelineVariable."""
        raise TypeError("Pipeline variables do not support __float__ operation.")

    def to_string(self):
        """Prompt the pipeline to convert the pipeline variable to String in runtime."""
        from sagepipe.workflow.functions import Join

        return Join(on="", values=[self])

    @property
    @abc.abstractmethod
    def expr(self) -> RequestType:
        """Get the expression structure for workflow service calls."""

    @property
    @abc.abstractmethod
    def _referenced_steps(self) -> List[Any]:
        """List of steps (or step names) that this variable depends on."""


class ValueObject:
    """Equality and repr by fields, as the SDK's ``attrs`` classes have (unhashable, like them)."""

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{self.__class__.__name__}({fields})"


class OutputParameter(ValueObject):
    """A named, typed output of a Lambda or Callback step (``OutputParameters`` in the definition)."""

    def __init__(self, output_name: str = None, output_type: Enum = None):
        self.output_name = output_name
        self.output_type = output_type

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        return {"OutputName": self.output_name, "OutputType": self.output_type.value}

    def expr(self, step_name) -> Dict[str, str]:
        """The 'Get' expression dict for this output of step ``step_name``."""
        return self._expr(self.output_name, step_name)

    @classmethod
    def _expr(cls, name, step_name):
        return {"Get": f"Steps.{step_name}.OutputParameters['{name}']"}
