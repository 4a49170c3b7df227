"""Pipeline functions Join and JsonGet (mirror of ``sagemaker.workflow.functions``)."""

from typing import TYPE_CHECKING, Any, List, Optional, Union

from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.execution_variables import ExecutionVariable
from sagepipe.workflow.parameters import Parameter
from sagepipe.workflow.properties import Properties, PropertyFile

if TYPE_CHECKING:
    from sagepipe.workflow.steps import Step


class Join(PipelineVariable):
    """Join together properties.

    Attributes:
        on (str): The string to join the values on (Defaults to "").
        values (List[Union[PrimitiveType, Parameter, Expression]]): The values to join.
    """

    def __init__(self, on: str = "", values: List = None):
        self.on = on
        self.values = values if values is not None else []

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.on, self.values) == (other.on, other.values)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def __repr__(self):
        return f"Join(on={self.on!r}, values={self.values!r})"

    def to_string(self) -> PipelineVariable:
        """Join is treated as String in runtime, no extra actions are needed."""
        return self

    @property
    def expr(self):
        """The expression dict for a `Join` function."""
        return {
            "Std:Join": {
                "On": self.on,
                "Values": [value.expr if hasattr(value, "expr") else value for value in self.values],
            },
        }

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this function depends on."""
        steps = []
        for value in self.values:
            if isinstance(value, PipelineVariable):
                steps.extend(value._referenced_steps)
        return steps


class JsonGet(PipelineVariable):
    """Get JSON properties from PropertyFiles or an S3 location.

    Attributes:
        step_name (str): The step name from which to get the property file.
        property_file (Optional[Union[PropertyFile, str]]): Either a PropertyFile instance
            or the name of a property file.
        json_path (str): The JSON path expression to the requested value.
        s3_uri (Optional[Join]): The S3 location from which to fetch a Json file
            (the output of a ``@step`` function).
        step (Step): The upstream step object which the s3_uri is associated to.
    """

    def __init__(
        self,
        step_name: str = None,
        property_file: Optional[Union[PropertyFile, str]] = None,
        json_path: str = None,
        s3_uri: Optional[Join] = None,
        step: "Step" = None,
    ):
        self.step_name = step_name
        self.property_file = property_file
        self.json_path = json_path
        self.s3_uri = s3_uri
        self.step = step
        # attrs runs the validator once per validated attribute (property_file and s3_uri)
        self._check_property_file_s3_uri(None, property_file)
        self._check_property_file_s3_uri(None, s3_uri)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._attr_tuple() == other._attr_tuple()

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def _attr_tuple(self):
        return (self.step_name, self.property_file, self.json_path, self.s3_uri, self.step)

    def __repr__(self):
        return (
            f"JsonGet(step_name={self.step_name!r}, property_file={self.property_file!r}, "
            f"json_path={self.json_path!r}, s3_uri={self.s3_uri!r}, step={self.step!r})"
        )

    def _check_property_file_s3_uri(self, attribute, value):
        """Validate mutually exclusive property file / s3uri."""
        if self.property_file and self.s3_uri:
            raise ValueError("Please specify either a property file or s3 uri as an input, but not both.")
        if not self.property_file and not self.s3_uri:
            raise ValueError(
                "Missing s3uri or property file as a required input to JsonGet."
                "Please specify either a property file or s3 uri as an input, but not both."
            )
        if self.s3_uri:
            self._validate_json_get_s3_uri()

    @property
    def expr(self):
        """The expression dict for a `JsonGet` function."""
        if self.property_file:
            if not isinstance(self.step_name, str) or not self.step_name:
                raise ValueError("Please give a valid step name as a string.")
            if isinstance(self.property_file, PropertyFile):
                name = self.property_file.name
            else:
                name = self.property_file
            return {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": f"Steps.{self.step_name}.PropertyFiles.{name}"},
                    "Path": self.json_path,
                }
            }
        if self.s3_uri:
            return {
                "Std:JsonGet": {
                    "S3Uri": (self.s3_uri.expr if isinstance(self.s3_uri, PipelineVariable) else self.s3_uri),
                    "Path": self.json_path,
                }
            }
        return None

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps that this function depends on."""
        if self.step:
            return [self.step]
        if self.step_name:
            return [self.step_name]
        return []

    def _validate_json_get_s3_uri(self):
        """Validate the s3 uri in JsonGet."""
        s3_uri = self.s3_uri
        if not isinstance(s3_uri, Join):
            raise ValueError(
                f"Invalid JsonGet function {self.expr}. JsonGet "
                "function's s3_uri can only be a sagemaker.workflow.functions.Join object."
            )
        for join_arg in s3_uri.values:
            if not is_pipeline_variable(join_arg):
                continue
            if not isinstance(join_arg, (Parameter, ExecutionVariable, Properties)):
                raise ValueError(
                    f"Invalid JsonGet function {self.expr}. "
                    f"The Join values in JsonGet's s3_uri can only be a primitive object, "
                    f"Parameter, ExecutionVariable or Properties."
                )
