"""Lineage artifacts (mirror of ``sagemaker.lineage.artifact``)."""

from typing import Optional

from sagepipe.lineage._entity import _create


class Artifact:
    """A lineage artifact (e.g. a model or data set), created by a ``LineageStep``."""

    @classmethod
    def create(
        cls,
        artifact_name: Optional[str] = None,
        source_uri: Optional[str] = None,
        source_types: Optional[list] = None,
        artifact_type: Optional[str] = None,
        properties: Optional[dict] = None,
        tags: Optional[dict] = None,
        sagemaker_session=None,
    ):
        """The ``CreateArtifact`` request; under a PipelineSession, the step arguments of a
        ``LineageStep`` (``artifacts=``)."""
        fields = {"ArtifactType": artifact_type, "Properties": properties}
        source = {"SourceUri": source_uri, "SourceTypes": source_types}
        return _create("create_artifact", sagemaker_session, {"ArtifactName": artifact_name}, source, fields, tags)
