"""Step properties for workflow expressions (mirror of ``sagemaker.workflow.properties``).

Unlike the SDK, which builds attributes eagerly from the botocore service models, these classes
are permissive: any public attribute access builds a child reference ``Steps.<name>.<path>``.
``[int]`` appends ``[i]`` and ``[str]`` appends ``['k']``. Attribute names starting with ``_``
raise ``AttributeError`` so that pickling, copying and introspection keep working.
"""

from typing import TYPE_CHECKING, Any, Dict, List, Union

from sagepipe.workflow.entities import Expression
from sagepipe.workflow.step_outputs import StepOutput

if TYPE_CHECKING:
    from sagepipe.workflow.steps import Step


def _join_path(path, key):
    return ".".join(p for p in (path, key) if p)


class Properties(StepOutput):
    """Properties for use in workflow expressions."""

    def __init__(
        self,
        step_name: str,
        path: str = None,
        shape_name: str = None,
        shape_names: List[str] = None,
        service_name: str = "sagemaker",
        step: "Step" = None,
    ):
        """Create a Properties instance.

        Args:
            step_name (str): The name of the Step this Property belongs to.
            path (str): The relative path of this Property value.
            shape_name (str): The botocore service model shape name (informational only).
            shape_names (List[str]): A list of botocore shape names (informational only).
            service_name (str): The botocore service name (informational only).
            step (Step): The Step object this Property belongs to.
        """
        super().__init__(step)
        self.step_name = step_name
        self.path = path
        shape_names = [] if shape_names is None else list(shape_names)
        self._shape_names = shape_names if shape_name is None else [shape_name] + shape_names
        self._service_name = service_name

    def __getattr__(self, name: str) -> "Properties":
        # Only called when normal lookup fails.
        if name.startswith("_"):
            raise AttributeError(name)
        child = Properties(
            step_name=self.step_name,
            path=_join_path(self.path, name),
            service_name=self._service_name,
            step=self.__dict__.get("_step"),
        )
        self.__dict__[name] = child
        return child

    def __getitem__(self, item: Union[int, str]) -> "Properties":
        items = self.__dict__.setdefault("_items", {})
        if item not in items:
            if isinstance(item, str):
                path = f"{self.path}['{item}']"
            else:
                path = f"{self.path}[{item}]"
            items[item] = Properties(
                self.step_name, path, service_name=self._service_name, step=self.__dict__.get("_step")
            )
        return items[item]

    def __iter__(self):
        raise TypeError(f"'{self.__class__.__name__}' object is not iterable")

    @property
    def expr(self):
        """The 'Get' expression dict for a `Properties`."""
        prefix = f"Steps.{self.step_name}"
        full_path = prefix if self.path is None else f"{prefix}.{self.path}"
        return {"Get": full_path}

    @property
    def _referenced_steps(self) -> List[Any]:
        """List of steps (or step names) that this property depends on."""
        if self._step:
            return [self._step]
        return [self.step_name]

    def __reduce__(self):
        """Pickle without the (unpicklable) step object, like the SDK."""
        return self.__class__, (self.step_name, self.path, None, self._shape_names)


class PropertiesList(Properties):
    """PropertiesList for use in workflow expressions."""

    def __init__(
        self,
        step_name: str,
        path: str,
        shape_name: str = None,
        service_name: str = "sagemaker",
        step: "Step" = None,
    ):
        super().__init__(step_name, path, shape_name, service_name=service_name, step=step)
        self.shape_name = shape_name
        self.service_name = service_name
        self._items: Dict[Union[int, str], Properties] = dict()

    def __reduce__(self):
        return self.__class__, (self.step_name, self.path, self.shape_name, self.service_name)


class PropertiesMap(Properties):
    """PropertiesMap for use in workflow expressions."""

    def __init__(
        self,
        step_name: str,
        path: str,
        shape_name: str = None,
        service_name: str = "sagemaker",
        step: "Step" = None,
    ):
        super().__init__(step_name, path, shape_name, service_name=service_name, step=step)
        self.shape_name = shape_name
        self.service_name = service_name
        self._items: Dict[Union[int, str], Properties] = dict()

    def __reduce__(self):
        return self.__class__, (self.step_name, self.path, self.shape_name, self.service_name)


class PropertyFile(Expression):
    """Provides a property file struct.

    Attributes:
        name (str): The name of the property file for reference with `JsonGet` functions.
        output_name (str): The name of the processing job output channel.
        path (str): The path to the file at the output channel location.
    """

    def __init__(self, name: str, output_name: str, path: str):
        self.name = name
        self.output_name = output_name
        self.path = path

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.name, self.output_name, self.path) == (other.name, other.output_name, other.path)

    __hash__ = None

    def __repr__(self):
        return f"PropertyFile(name={self.name!r}, output_name={self.output_name!r}, path={self.path!r})"

    @property
    def expr(self) -> Dict[str, str]:
        """The expression dict for a `PropertyFile`."""
        return {
            "PropertyFileName": self.name,
            "OutputName": self.output_name,
            "FilePath": self.path,
        }
