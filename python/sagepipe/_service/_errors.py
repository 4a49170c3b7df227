"""Error responses of the local AWS service, in the shape botocore parses from AWS."""

from typing import Any, Dict, Sequence

DOCS = "docs/sagemaker-api-support.md"


class ServiceError(Exception):
    """An error the local service answers with; botocore raises it as its modeled ``ClientError``.

    Args:
        code: The service's error code (``NoSuchKey``, ``ValidationException``, ``404``...).
        message: What went wrong.
        status: The HTTP status the service would send.
    """

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def response(self) -> Dict[str, Any]:
        return {"Error": {"Code": self.code, "Message": self.message}}


class NotServed(ServiceError):
    """An operation (or parameters of one) sagepipe does not answer locally; never sent to AWS."""

    def __init__(self, service: str, operation: str, parameters: Sequence[str] = (), served: Sequence[str] = ()):
        if parameters:
            what = f"the parameter(s) {', '.join(parameters)} of the {service} operation {operation}"
            where = f"it serves {', '.join(served)}"
        else:
            what = f"the {service} operation {operation}"
            where = f"this process routes {service} calls to the local store; see {DOCS} for the operations served"
        super().__init__("NotServedLocally", f"sagepipe does not serve {what} locally ({where})", 501)


class LocalService:
    """Base of the local services: ``call`` runs the method named like the operation."""

    service = ""

    def __init__(self, store_root: str):
        self.store_root = store_root

    def call(self, operation: str, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        from botocore import xform_name

        if operation not in getattr(self, "OPERATIONS", ()):
            raise NotServed(self.service, operation)
        return getattr(self, xform_name(operation))(params, context)

    @classmethod
    def operations(cls):
        """The operation names served, for documentation and for the dispatch check."""
        return sorted(getattr(cls, "OPERATIONS", ()))
