"""moto's server on a loopback address, and botocore's Stubber for the SageMaker calls moto does
not implement (``ListPipelineExecutionSteps``, the jobs' describe calls of a pipeline's steps)."""

import contextlib
from typing import Any, Callable, Dict, Iterator

import pytest


@contextlib.contextmanager
def moto_aws() -> Iterator[Any]:
    """moto's server on 127.0.0.1 (a free port), and the environment a user's AWS configuration
    would give: fake credentials, a region, AWS_ENDPOINT_URL. Yields a boto3 session."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            env.setenv("AWS_DEFAULT_REGION", "us-east-1")
            env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
            env.delenv("AWS_PROFILE", raising=False)
            yield boto3.session.Session()
    finally:
        server.stop()


def stub_operations(monkeypatch, stubber_for: Callable[[str], Any]) -> None:
    """Every SageMaker client made from now on answers the operations ``stubber_for(operation)``
    gives a Stubber for (its client checks the request and answers with the response queued on
    it, validated against the service's shapes); its other calls still go to moto's server."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    original = botocore.session.Session.create_client

    def keep_params(params: Dict[str, Any], context: Dict[str, Any], **_: Any) -> None:
        context["stubbed_params"] = dict(params)

    def answer(model, context: Dict[str, Any], **_: Any):
        stubber = stubber_for(model.name)
        if stubber is None:
            return None
        from botocore import xform_name

        result = getattr(stubber.client, xform_name(model.name))(**context["stubbed_params"])
        return AWSResponse("http://stubbed", 200, {}, None), result

    def create_client(self, service_name, *args, **kwargs):
        client = original(self, service_name, *args, **kwargs)
        if service_name == "sagemaker":
            client.meta.events.register("before-parameter-build.sagemaker.*", keep_params)
            client.meta.events.register("before-call.sagemaker.*", answer)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
