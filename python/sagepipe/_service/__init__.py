"""The local AWS service the real SageMaker SDK talks to: botocore clients answered by sagepipe.

:func:`route` makes every botocore client of a served service (SageMaker, S3, STS, IAM) that this
process creates, or already created, answer locally: the client stays botocore's own (its
parameter validation, paginators, modeled exceptions and events all run), but its
``before-call`` event returns sagepipe's response, so no request is signed or sent, and neither
credentials nor network are needed. Clients of other services are untouched.

:func:`route` also exports the routing to the processes sagepipe starts (jobs, function-step
workers): ``SAGEPIPE_ROUTE_AWS`` names the services and ``startup/sitecustomize.py`` on
``PYTHONPATH`` routes them at interpreter start-up, so code inside a job that calls boto3 reads
and writes the same store.
"""

import os
import threading
import weakref
from typing import Any, Dict, Iterable, Optional, Tuple

from sagepipe._service import _iam, _s3, _sagemaker, _sts
from sagepipe._service._errors import NotServed, ServiceError

__all__ = ["SERVED", "route", "unroute", "routed_services", "route_from_environment"]

ROUTE_ENV = "SAGEPIPE_ROUTE_AWS"
STARTUP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "startup")
DEFAULT_REGION = "us-east-1"

# botocore service name -> the local service's class
SERVED = {"sagemaker": _sagemaker.LocalSageMaker, "s3": _s3.LocalS3, "sts": _sts.LocalSts, "iam": _iam.LocalIam}

_lock = threading.RLock()
_services: Dict[str, Any] = {}  # routed service name -> its local service
_clients: "weakref.WeakSet[Any]" = weakref.WeakSet()  # clients answered locally
_original_create_client: Optional[Any] = None
_original_create_waiter: Optional[Any] = None
_environment_before: Dict[str, Optional[str]] = {}
_PARAMS = "sagepipe_api_params"


def routed_services() -> Tuple[str, ...]:
    """The services answered locally right now (empty when not routed)."""
    return tuple(_services)


def route(services: Iterable[str] = tuple(SERVED), store: Optional[str] = None) -> None:
    """Answer the botocore clients of ``services`` from the local store ``store``.

    Args:
        services: botocore service names, among ``sagemaker``, ``s3`` and ``sts``.
        store: The store directory (default ``$SAGEPIPE_STORE`` or ``./.sagepipe``).
    """
    import botocore.session
    import botocore.waiter

    wanted = list(services)
    unknown = [s for s in wanted if s not in SERVED]
    if unknown:
        raise ValueError(f"sagepipe cannot serve {unknown} locally; it serves {sorted(SERVED)}")
    with _lock:
        root = os.path.abspath(store or os.environ.get("SAGEPIPE_STORE") or ".sagepipe")
        for name in wanted:
            _services[name] = SERVED[name](root)
        global _original_create_client, _original_create_waiter
        if _original_create_client is None:
            import botocore.waiter

            _original_create_client = botocore.session.Session.create_client
            botocore.session.Session.create_client = _create_client
            _original_create_waiter = botocore.waiter.create_waiter_with_client
            botocore.waiter.create_waiter_with_client = _create_waiter_with_client
        _export_environment(root)
        for client in _existing_clients():
            _attach(client)


def unroute() -> None:
    """Undo :func:`route`: clients answered locally go back to AWS, and so do new ones."""
    global _original_create_client, _original_create_waiter
    with _lock:
        if _original_create_client is not None:
            import botocore.session
            import botocore.waiter

            botocore.session.Session.create_client = _original_create_client
            _original_create_client = None
            botocore.waiter.create_waiter_with_client = _original_create_waiter
            _original_create_waiter = None
        for client in list(_clients):
            _detach(client)
        _services.clear()
        for name, value in _environment_before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _environment_before.clear()


def route_from_environment() -> None:
    """Route what ``$SAGEPIPE_ROUTE_AWS`` names (how processes sagepipe starts inherit routing)."""
    names = [s for s in os.environ.get(ROUTE_ENV, "").split(",") if s in SERVED]
    if names:
        route(names, os.environ.get("SAGEPIPE_STORE"))


def _export_environment(root: str) -> None:
    """Let child processes route the same services into the same store, and give boto3 a region
    when none is configured (the SDK refuses to start without one; the local service has one)."""
    path_parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != STARTUP_DIR]
    values = {
        ROUTE_ENV: ",".join(_services),
        "SAGEPIPE_STORE": root,
        "PYTHONPATH": os.pathsep.join([STARTUP_DIR, *path_parts]),
    }
    if not _configured_region():
        values["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    for name, value in values.items():
        _environment_before.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def _configured_region() -> Optional[str]:
    import botocore.session

    try:
        return botocore.session.get_session().get_config_variable("region")
    except Exception:  # noqa: BLE001 - an unreadable AWS config file means no region
        return None


def _existing_clients():
    """Clients made before :func:`route` (e.g. by a ``sagemaker.Session()`` built earlier)."""
    import gc

    from botocore.client import BaseClient

    # type(), not isinstance(): a weakref.proxy to a client passes isinstance() (botocore's S3
    # region redirector holds one per S3 client) and cannot itself be held in a WeakSet.
    return [obj for obj in gc.get_objects() if issubclass(type(obj), BaseClient)]


def _create_client(self, service_name, *args, **kwargs):
    client = _original_create_client(self, service_name, *args, **kwargs)
    _attach(client)
    return client


def _create_waiter_with_client(waiter_name, waiter_model, client):
    return _sagemaker.create_waiter_with_client(_original_create_waiter, waiter_name, waiter_model, client)


def _attach(client) -> None:
    name = client.meta.service_model.service_name
    if name not in _services or client in _clients:
        return
    service_id = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.register(f"before-parameter-build.{service_id}", _keep_params, unique_id="sagepipe-params")
    events.register(f"before-call.{service_id}", _answer, unique_id="sagepipe-answer")
    _clients.add(client)


def _detach(client) -> None:
    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.unregister(f"before-parameter-build.{service_id}", unique_id="sagepipe-params")
    client.meta.events.unregister(f"before-call.{service_id}", unique_id="sagepipe-answer")
    _clients.discard(client)


def _keep_params(params, context, **kwargs) -> None:
    # before-call only sees the serialized HTTP request; the service answers the API parameters.
    context[_PARAMS] = params


def _answer(model, context, **kwargs):
    from botocore.awsrequest import AWSResponse

    service_name = model.service_model.service_name
    service = _services.get(service_name)
    if service is None:  # unrouted since this client was made
        return None
    params = context.get(_PARAMS, {})
    try:
        status, parsed = 200, service.call(model.name, params, context)
    except ServiceError as error:
        status, parsed = error.status, error.response()
    metadata = parsed.setdefault("ResponseMetadata", {})
    metadata.setdefault("RequestId", "sagepipe-local")
    metadata.setdefault("HTTPStatusCode", status)
    metadata.setdefault("HTTPHeaders", {})
    metadata.setdefault("RetryAttempts", 0)
    return AWSResponse(f"sagepipe://{service_name}/{model.name}", status, metadata["HTTPHeaders"], _NoBody()), parsed


class _NoBody:
    """The raw HTTP body of a local response: there is none (the parsed response is the answer)."""

    def stream(self, *args, **kwargs):
        return iter(())


__all__ += ["NotServed", "ServiceError"]
