"""Routing AWS calls locally takes over clients made before it, and only the clients themselves."""

import weakref

import boto3


def test_route_takes_over_an_s3_client_made_before_it(tmp_path):
    from sagepipe import _service

    # botocore keeps a weakref.proxy to every S3 client (its region redirector): the proxy passes
    # isinstance(BaseClient), and routing tried to keep it in its WeakSet (TypeError).
    early = boto3.client("s3", region_name="us-east-1")
    proxy = weakref.proxy(early)
    _service.route(["s3"], str(tmp_path / "store"))
    try:
        early.create_bucket(Bucket="early")
        early.put_object(Bucket="early", Key="k.txt", Body=b"made before route")
        assert proxy.get_object(Bucket="early", Key="k.txt")["Body"].read() == b"made before route"
    finally:
        _service.unroute()
