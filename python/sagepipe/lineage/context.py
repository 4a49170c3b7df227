"""Lineage contexts (mirror of ``sagemaker.lineage.context``)."""

from sagepipe.lineage._entity import _create


class Context:
    """A lineage context (e.g. an endpoint), created by a ``LineageStep``."""

    @classmethod
    def create(
        cls,
        context_name: str = None,
        source_uri: str = None,
        source_type: str = None,
        context_type: str = None,
        description: str = None,
        properties: dict = None,
        tags: dict = None,
        sagemaker_session=None,
    ):
        """The ``CreateContext`` request; under a PipelineSession, the step arguments of a
        ``LineageStep`` (``contexts=``)."""
        fields = {
            "ContextType": context_type,
            "Description": description,
            "Properties": properties,
        }
        source = {"SourceUri": source_uri, "SourceType": source_type}
        return _create("create_context", sagemaker_session, {"ContextName": context_name}, source, fields, tags)
