"""LineageStep (mirror of ``sagemaker.workflow.lineage_step``).

Records lineage entities (actions, artifacts, contexts) and the associations between them, in
either SDK 2.257 form: the entities captured from ``Action.create()``/``Artifact.create()``/
``Context.create()`` under a PipelineSession plus ``LineageAssociation`` objects, or one
``arguments=`` dict. sagepipe has no lineage service: running the step fails before the
execution starts unless a handler is registered for the ``Lineage`` type or the step is left out
of a selective run.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import PipelineVariable, RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum

ENTITY_TYPE_ACTION = "Action"
ENTITY_TYPE_ARTIFACT = "Artifact"
ENTITY_TYPE_CONTEXT = "Context"

# (step argument, capturing call, Arguments key, entity type, name field, producer) per kind.
_ENTITY_KINDS = (
    ("actions", "create_action", "Actions", ENTITY_TYPE_ACTION, "ActionName", "Action.create()"),
    ("artifacts", "create_artifact", "Artifacts", ENTITY_TYPE_ARTIFACT, "ArtifactName", "Artifact.create()"),
    ("contexts", "create_context", "Contexts", ENTITY_TYPE_CONTEXT, "ContextName", "Context.create()"),
)
_RECOGNIZED = ("Actions", "Artifacts", "Associations", "Contexts")


class LineageEntityReference:
    """An association endpoint: an entity of the same step (``name`` and ``type``) or an
    existing one (``arn``)."""

    def __init__(
        self,
        name: Optional[Union[str, PipelineVariable]] = None,
        type: Optional[str] = None,  # noqa: A002 - the SDK's argument name
        arn: Optional[Union[str, PipelineVariable]] = None,
    ):
        """Construct a ``LineageEntityReference``.

        Raises:
            ValueError: Both or neither forms, or an unknown entity type.
        """
        if arn is not None:
            if name is not None or type is not None:
                raise ValueError("A LineageEntityReference takes either arn, or name and type -- not both.")
        else:
            if name is None or type is None:
                raise ValueError("A LineageEntityReference requires either arn, or both name and type.")
            if type not in (ENTITY_TYPE_ACTION, ENTITY_TYPE_ARTIFACT, ENTITY_TYPE_CONTEXT):
                raise ValueError(
                    f"Unsupported lineage entity type '{type}'. Expected one of "
                    f"{ENTITY_TYPE_ACTION}, {ENTITY_TYPE_ARTIFACT}, {ENTITY_TYPE_CONTEXT}."
                )
        self.name = name
        self.type = type
        self.arn = arn

    def to_request(self) -> RequestType:
        """``{"Arn": ...}`` or ``{"Name": ..., "Type": ...}``."""
        if self.arn is not None:
            return {"Arn": self.arn}
        return {"Name": self.name, "Type": self.type}


class LineageAssociation:
    """An association between two lineage entities."""

    def __init__(
        self,
        source: LineageEntityReference,
        destination: LineageEntityReference,
        association_type: Optional[str] = None,
    ):
        """Construct a ``LineageAssociation`` (``association_type`` e.g. ``Produced``).

        Raises:
            TypeError: An endpoint that is not a ``LineageEntityReference``.
        """
        for role, ref in (("source", source), ("destination", destination)):
            if not isinstance(ref, LineageEntityReference):
                raise TypeError(
                    f"The {role} of a LineageAssociation must be a LineageEntityReference, got {type(ref).__name__}."
                )
        self.source = source
        self.destination = destination
        self.association_type = association_type

    def to_request(self) -> RequestType:
        """The association as the step's ``Associations`` entry."""
        request = {"Source": self.source.to_request(), "Destination": self.destination.to_request()}
        if self.association_type is not None:
            request["AssociationType"] = self.association_type
        return request


class _EntityArnMap(Properties):
    """``ActionArns``/``ArtifactArns``/``ContextArns``: maps by entity name."""

    def __getitem__(self, item: str) -> Properties:
        return Properties(step_name=self.step_name, path=f"{self.path}['{item}']")


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class LineageStep(Step):
    """Records lineage entities and their associations in one pipeline step."""

    def __init__(
        self,
        name: str,
        actions=None,
        artifacts=None,
        contexts=None,
        associations: Optional[List[LineageAssociation]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        *,
        arguments: Optional[Dict[str, Any]] = None,
    ):
        """Construct a ``LineageStep``.

        Args:
            name (str): The name of the step.
            actions, artifacts, contexts: Step arguments captured from ``Action.create()``,
                ``Artifact.create()``, ``Context.create()`` under a PipelineSession (one or a list).
            associations (List[LineageAssociation]): Associations added after the entities exist.
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            arguments (dict): Instead of the above: ``Actions``, ``Artifacts``, ``Contexts`` and/or
                ``Associations`` lists shaped like the lineage APIs.

        Raises:
            ValueError: Nothing to record, an entity from the wrong producer, an unknown key, or
                an association naming an entity this step does not create.
        """
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            step_type=StepTypeEnum.LINEAGE,
            depends_on=depends_on,
        )
        self.associations = list(associations) if associations else []
        self._entities: Dict[str, list] = {}
        given = any((actions, artifacts, contexts, associations))
        if arguments is None and not given:
            raise ValueError(
                "A LineageStep requires at least one entity in actions, artifacts or contexts, or one association."
            )
        if arguments is not None:
            if given:
                raise ValueError("LineageStep: give either arguments or actions/artifacts/contexts/associations.")
            self._arguments = self._checked_arguments(arguments)
        else:
            self._arguments = None
            self._collect_entities({"actions": actions, "artifacts": artifacts, "contexts": contexts})
            self._validate_sibling_references()
        root = Properties(step_name=name, step=self)
        for field in ("ActionArns", "ArtifactArns", "ContextArns"):
            root.__dict__[field] = _EntityArnMap(step_name=name, step=self, path=field)
        root.__dict__["Associations"] = Properties(step_name=name, step=self, path="Associations")
        self._properties = root

    @staticmethod
    def _checked_arguments(arguments):
        if arguments is None:
            raise ValueError("arguments is required for LineageStep.")
        if not isinstance(arguments, dict) or not arguments:
            raise ValueError("LineageStep: arguments must be a non-empty dict.")
        if not set(_RECOGNIZED) & set(arguments):
            raise ValueError("LineageStep.arguments must contain at least one of: " + ", ".join(_RECOGNIZED))
        unknown = sorted(set(arguments) - set(_RECOGNIZED))
        if unknown:
            raise ValueError(
                f"LineageStep: unknown argument field(s) {unknown}. Allowed top-level fields: "
                + ", ".join(_RECOGNIZED)
                + "."
            )
        return arguments

    def _collect_entities(self, supplied):
        from sagepipe.workflow.pipeline_context import _StepArguments

        for param, caller, _, _, _, producer in _ENTITY_KINDS:
            entities = _as_list(supplied[param])
            for entity in entities:
                if not isinstance(entity, _StepArguments) or entity.caller_name != caller:
                    raise ValueError(
                        f"The {param} of LineageStep must be obtained from {producer} called with a "
                        "PipelineSession. Associations are passed to the associations argument instead, "
                        "because Association.create() cannot reference an entity created by the same step."
                    )
            self._entities[param] = entities

    def _validate_sibling_references(self):
        """A name-and-type endpoint must name an entity this step creates (the service resolves
        it only there): fail when the step is built rather than when it runs."""
        created = {}
        for param, _, _, entity_type, name_field, _ in _ENTITY_KINDS:
            for entity in self._entities[param]:
                entity_name = entity.args.get(name_field)
                if isinstance(entity_name, str):
                    created[entity_name] = entity_type
        for association in self.associations:
            for role, ref in (("source", association.source), ("destination", association.destination)):
                if ref.arn is not None or not isinstance(ref.name, str):
                    continue  # an ARN, or a pipeline variable known only when the step runs
                if created.get(ref.name) != ref.type:
                    raise ValueError(
                        f"The {role} of an association references {ref.type} '{ref.name}', which this step "
                        "does not create. A name and type reference must name an entity created by the same "
                        "LineageStep; use arn to reference an entity created elsewhere."
                    )

    @property
    def actions(self) -> list:
        """The captured arguments of the actions this step creates."""
        return self._entities.get("actions", [])

    @property
    def artifacts(self) -> list:
        """The captured arguments of the artifacts this step creates."""
        return self._entities.get("artifacts", [])

    @property
    def contexts(self) -> list:
        """The captured arguments of the contexts this step creates."""
        return self._entities.get("contexts", [])

    @property
    def arguments(self) -> RequestType:
        """The lineage entities and associations to record."""
        if self._arguments is not None:
            return self._arguments
        request: RequestType = {}
        for param, _, key, _, _, _ in _ENTITY_KINDS:
            if self._entities[param]:
                request[key] = [entity.args for entity in self._entities[param]]
        if self.associations:
            request["Associations"] = [a.to_request() for a in self.associations]
        return request

    @property
    def properties(self):
        """``ActionArns``, ``ArtifactArns``, ``ContextArns`` (by entity name) and ``Associations``."""
        return self._properties
