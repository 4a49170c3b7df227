"""SageMaker lineage entities (mirror of ``sagemaker.lineage``), for ``LineageStep``.

sagepipe has no lineage service: ``Action.create``, ``Artifact.create`` and ``Context.create``
build the SDK's ``Create*`` request, which a ``PipelineSession`` captures as the step arguments
of a ``LineageStep``; on a plain session they raise ``PipelineSessionRequiredError``. Listing,
loading and deleting entities are not available.
"""
