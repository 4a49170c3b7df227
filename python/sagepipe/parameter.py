"""Hyperparameter ranges for tuning jobs (mirror of ``sagemaker.parameter``)."""

import json
from typing import Union

from sagepipe.utils import to_string
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["CategoricalParameter", "ContinuousParameter", "IntegerParameter", "ParameterRange"]


class ParameterRange:
    """Base class for representing parameter ranges (used for hyperparameter tuning)."""

    __all_types__ = ("Continuous", "Categorical", "Integer")

    def __init__(
        self,
        min_value: Union[int, float, PipelineVariable],
        max_value: Union[int, float, PipelineVariable],
        scaling_type: Union[str, PipelineVariable] = "Auto",
    ):
        """Initialize a parameter range.

        Args:
            min_value (float or int or PipelineVariable): The minimum value of the range.
            max_value (float or int or PipelineVariable): The maximum value of the range.
            scaling_type (str): ``Auto``, ``Linear``, ``Logarithmic`` or ``ReverseLogarithmic``.
        """
        self.min_value = min_value
        self.max_value = max_value
        self.scaling_type = scaling_type

    def is_valid(self, value):
        """Whether ``value`` lies in the range."""
        return self.min_value <= value <= self.max_value

    @classmethod
    def cast_to_type(cls, value):
        """Cast a value to the range's type."""
        return float(value)

    def as_tuning_range(self, name):
        """The ``ParameterRanges`` entry of this range for hyperparameter ``name``."""
        return {
            "Name": name,
            "MinValue": to_string(self.min_value),
            "MaxValue": to_string(self.max_value),
            "ScalingType": self.scaling_type,
        }


class ContinuousParameter(ParameterRange):
    """A class for representing hyperparameters that have a continuous range of possible values."""

    __name__ = "Continuous"


class CategoricalParameter(ParameterRange):
    """A class for representing hyperparameters that have a discrete list of possible values."""

    __name__ = "Categorical"

    def __init__(self, values):  # pylint: disable=super-init-not-called
        """Initialize a ``CategoricalParameter`` from a value or a list of values."""
        values = values if isinstance(values, list) else [values]
        self.values = [to_string(v) for v in values]

    def as_tuning_range(self, name):
        """The ``CategoricalParameterRanges`` entry of this range."""
        return {"Name": name, "Values": self.values}

    def as_json_range(self, name):
        """The entry with JSON-encoded values (framework estimators)."""
        return {"Name": name, "Values": [json.dumps(v) for v in self.values]}

    def is_valid(self, value):
        """Whether ``value`` is one of the values."""
        return value in self.values

    @classmethod
    def cast_to_type(cls, value):
        """Cast a value to ``str``."""
        return str(value)


class IntegerParameter(ParameterRange):
    """A class for representing hyperparameters that have an integer range of possible values."""

    __name__ = "Integer"

    @classmethod
    def cast_to_type(cls, value):
        """Cast a value to ``int``."""
        return int(value)
