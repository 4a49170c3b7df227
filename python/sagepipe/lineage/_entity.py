"""The request shared by the lineage entity ``create`` calls."""

from typing import Any, Dict

from sagepipe.utils import format_tags


def _create(method: str, sagemaker_session, name: Dict[str, Any], source: Dict[str, Any], fields: Dict[str, Any], tags):
    """Hand the ``Create*`` request of a lineage entity to the session: its name, ``Source``,
    the other fields and ``Tags``, in the SDK's order, unset values left out."""
    from sagepipe.session import session_or_default

    sagemaker_session = session_or_default(sagemaker_session)
    request = {key: value for key, value in name.items() if value is not None}
    source = {key: value for key, value in source.items() if value is not None}
    if source:
        request["Source"] = source
    request.update({key: value for key, value in fields.items() if value is not None})
    tags = format_tags(tags)
    if tags is not None:
        request["Tags"] = tags
    return sagemaker_session._intercept_create_request(request, None, method)
