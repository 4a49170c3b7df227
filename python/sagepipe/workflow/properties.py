"""Step properties for workflow expressions (mirror of ``sagemaker.workflow.properties``).

A step's ``properties`` are the fields of the service's Describe* response for its job
(``DescribeProcessingJobResponse``, ...), as the SDK builds them from the service model. The
shapes come from the public AWS service models (botocore's ``sagemaker`` and ``emr``
``service-2.json``), extracted into ``sagepipe/data/property_shapes.json`` by
``tests/fixtures/gen_property_shapes.py``. So ``step.properties.ProcessingJobStatuss`` raises
``AttributeError`` (with the closest real names) where the pipeline is written, not after the
upstream step has run.

A property of a known shape has its members as attributes, built on first use (an attribute,
``dir()`` or ``__dict__``/``vars()``): the SDK builds the whole tree per step, megabytes for a
large pipeline. Lists are :class:`PropertiesList` (``[0]`` or ``['name']``), maps
:class:`PropertiesMap` (``['key']``). A property without a known shape (a Lambda or callback
output, a shape sagepipe has not extracted) accepts any public attribute or index. Attribute
names starting with ``_`` raise ``AttributeError`` so that pickling, copying and introspection
keep working.
"""

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import Expression
from sagepipe.workflow.step_outputs import StepOutput

if TYPE_CHECKING:
    from sagepipe.workflow.steps import Step

_SHAPES_FILE = Path(__file__).resolve().parent.parent / "data" / "property_shapes.json"


@functools.cache
def _all_shapes() -> Dict[str, Any]:
    """The shipped shapes of every service, read once."""
    with open(_SHAPES_FILE) as f:
        return json.load(f)["shapes"]


def _service_shapes(service_name: str) -> Dict[str, Any]:
    """The shapes of a service (``{}`` for a service sagepipe has no shapes of)."""
    return _all_shapes().get(service_name, {})


def _real_dict_descriptor():
    """The interpreter's ``__dict__`` descriptor of step outputs (``Properties`` overrides the name)."""
    for klass in StepOutput.__mro__:
        descriptor = klass.__dict__.get("__dict__")
        if descriptor is not None:
            return descriptor
    raise TypeError("StepOutput instances have no __dict__")


_attributes = _real_dict_descriptor().__get__


def _join_path(path, key):
    return ".".join(p for p in (path, key) if p)


def _property_class(shape: Any) -> type:
    if isinstance(shape, dict) and "list" in shape:
        return PropertiesList
    if isinstance(shape, dict) and "map" in shape:
        return PropertiesMap
    return Properties


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
        """Create a Properties instance representing the given shape.

        Args:
            step_name (str): The name of the Step this Property belongs to.
            path (str): The relative path of this Property value.
            shape_name (str): The service model shape name.
            shape_names (List[str]): A list of service model shape names (their members merge).
            service_name (str): The service the shapes belong to (``sagemaker`` or ``emr``).
            step (Step): The Step object this Property belongs to.
        """
        super().__init__(step)
        self.step_name = step_name
        self.path = path
        shape_names = [] if shape_names is None else list(shape_names)
        self._shape_names = shape_names if shape_name is None else [shape_name] + shape_names
        self._service_name = service_name
        self._members_built = False

    @property
    def __dict__(self):
        """The instance's attributes, its members included (built now if they are not yet)."""
        attributes = _attributes(self)
        if not attributes.get("_members_built", True):
            self._build_members()
        return attributes

    def _known_shapes(self) -> Optional[List[Any]]:
        """The shapes of this property, or None when any is unknown (then anything goes)."""
        if not self._shape_names:
            return None
        shapes = _service_shapes(self._service_name)
        found = [shapes.get(name) for name in self._shape_names]
        return None if any(shape is None for shape in found) else found

    def _members(self) -> Optional[Dict[str, str]]:
        """``{member: shape}`` of this property; ``{}`` for a primitive; None when unknown."""
        known = self._known_shapes()
        if known is None:
            return None
        members: Dict[str, str] = {}
        for shape in known:
            if isinstance(shape, dict):
                members.update(shape.get("members", {}))
        return members

    def _build_members(self) -> None:
        attributes = _attributes(self)
        attributes["_members_built"] = True
        members = self._members()
        if not members:
            return
        shapes = _service_shapes(self._service_name)
        for key, shape_name in members.items():
            if key not in attributes:
                attributes[key] = self._child(_property_class(shapes.get(shape_name)), key, shape_name)

    def _child(self, cls: type, key: str, shape_name: Optional[str]) -> "Properties":
        path = f"{self.path}{key}" if key.startswith("[") else _join_path(self.path, key)
        shape_names = [shape_name] if shape_name else []
        return _bare(cls, _attributes(self).get("_step"), self.step_name, path, shape_names, self._service_name)

    def __getattr__(self, name: str) -> "Properties":
        # Only called when normal lookup fails.
        if name.startswith("_"):
            raise AttributeError(name)
        attributes = _attributes(self)
        if not attributes.get("_members_built", True):
            self._build_members()
            if name in attributes:
                return attributes[name]
        members = self._members()
        if members is not None:
            raise AttributeError(self._no_member_message(name, members))
        child = self._child(Properties, name, None)
        attributes[name] = child
        return child

    def _no_member_message(self, name: str, members: Dict[str, str]) -> str:
        where = self.expr["Get"]
        shape = " + ".join(self._shape_names)
        if not members:
            return f"{where} ({shape}) is a value and has no property '{name}'"
        import difflib  # only when a property name is wrong

        close = difflib.get_close_matches(name, members, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"{where} ({shape}) has no property '{name}'{hint}"

    def __dir__(self):
        if not _attributes(self).get("_members_built", True):
            self._build_members()
        return super().__dir__()

    def __getitem__(self, item: Union[int, str]) -> "Properties":
        if self._members() is not None:
            raise TypeError(f"{self.expr['Get']} ({' + '.join(self._shape_names)}) is not a list or map to index")
        return self._item(item, None)

    def _item(self, item: Union[int, str], shape_name: Optional[str]) -> "Properties":
        items = _attributes(self).setdefault("_items", {})
        if item not in items:
            key = f"['{item}']" if isinstance(item, str) else f"[{item}]"
            cls = _property_class(_service_shapes(self._service_name).get(shape_name)) if shape_name else Properties
            items[item] = self._child(cls, key, shape_name)
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
        return _rebuild, (self.__class__, self.step_name, self.path, self._shape_names, self._service_name)


def _bare(cls: type, step: Any, step_name: str, path: Optional[str], shape_names: List[str], service_name: str):
    """A property whose members are built on first use (nested ones, unpickled ones)."""
    prop = cls.__new__(cls)
    StepOutput.__init__(prop, step)
    prop.step_name = step_name
    prop.path = path
    prop._shape_names = list(shape_names)
    prop._service_name = service_name
    prop._members_built = False
    if issubclass(cls, _Collection):
        prop.shape_name = shape_names[0] if shape_names else None
        prop.service_name = service_name
        prop._items = {}
    return prop


def _rebuild(cls: type, step_name: str, path: Optional[str], shape_names: List[str], service_name: str):
    """Unpickle a property (at any depth), without its step as the SDK does."""
    return _bare(cls, None, step_name, path, shape_names, service_name)


class _Collection(Properties):
    """What lists and maps share: indexing by the collection's member shape."""

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

    _ITEM_KEY = ""

    def _item_shape(self) -> Optional[str]:
        known = self._known_shapes()
        if not known or not isinstance(known[0], dict):
            return None
        return known[0].get(self._ITEM_KEY)

    def __getitem__(self, item: Union[int, str]) -> Properties:
        return self._item(item, self._item_shape())

    def _members(self) -> Optional[Dict[str, str]]:
        # A list or map has items, not attributes: known ones have none; unknown ones anything.
        return None if self._known_shapes() is None else {}


class PropertiesList(_Collection):
    """PropertiesList for use in workflow expressions: ``[i]`` or ``['name']``."""

    _ITEM_KEY = "list"


class PropertiesMap(_Collection):
    """PropertiesMap for use in workflow expressions: ``['key']``."""

    _ITEM_KEY = "map"


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

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

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
