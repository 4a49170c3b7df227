"""The real SDK of this virtualenv imports, and with sagepipe installed its AWS calls stay local."""

import importlib.metadata
import os

import pytest
import sagepipe

# tests/test_real_sdk_lines.py names the line it built this virtualenv for ("v2", "v3").
LINE_ENV = "SAGEPIPE_SDK_LINE"


def test_real_sdk_imports_and_is_the_expected_line():
    import sagemaker

    version = importlib.metadata.version("sagemaker")
    major = int(version.split(".")[0])
    # -rA shows this in the inner run's output.
    print(f"sagemaker {version} (line v{major}) from {os.path.dirname(sagemaker.__file__)}")
    assert major in (2, 3)
    expected_line = os.environ.get(LINE_ENV)
    if expected_line:
        assert f"v{major}" == expected_line


@pytest.fixture
def real_sdk_installed_on(tmp_path, monkeypatch):
    """sagepipe.install(sdk="real") on a store in tmp_path (set before install, which reads it)."""
    store = tmp_path / "store"
    monkeypatch.setenv("SAGEPIPE_STORE", str(store))
    sagepipe.install(sdk="real")
    try:
        yield store
    finally:
        sagepipe.uninstall()


def test_sts_and_s3_are_answered_from_the_store(real_sdk_installed_on):
    import boto3

    assert boto3.client("sts").get_caller_identity()["Account"] == "000000000000"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="smoke-bucket")
    s3.put_object(Bucket="smoke-bucket", Key="dir/hello.txt", Body=b"hello from the real SDK line")
    body = s3.get_object(Bucket="smoke-bucket", Key="dir/hello.txt")["Body"].read()
    assert body == b"hello from the real SDK line"
    # The object lives in the temp store, not anywhere else.
    stored = [p for p in real_sdk_installed_on.rglob("hello.txt") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == body
