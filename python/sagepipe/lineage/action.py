"""Lineage actions (mirror of ``sagemaker.lineage.action``)."""

from sagepipe.lineage._entity import _create


class Action:
    """A lineage action (e.g. a training run), created by a ``LineageStep``."""

    @classmethod
    def create(
        cls,
        action_name: str = None,
        source_uri: str = None,
        source_type: str = None,
        action_type: str = None,
        description: str = None,
        status: str = None,
        properties: dict = None,
        tags: dict = None,
        sagemaker_session=None,
    ):
        """The ``CreateAction`` request; under a PipelineSession, the step arguments of a
        ``LineageStep`` (``actions=``)."""
        fields = {
            "ActionType": action_type,
            "Description": description,
            "Status": status,
            "Properties": properties,
        }
        source = {"SourceUri": source_uri, "SourceType": source_type}
        return _create("create_action", sagemaker_session, {"ActionName": action_name}, source, fields, tags)
