"""The local AWS service as a boto3 user sees it: real botocore clients of S3, STS and SageMaker
answered from a temporary store (:mod:`sagepipe._service`), with real files on disk.

Routing is process-global (it patches botocore and exports environment variables), so the tests
that are about routing itself (clients made before ``route()``, ``unroute()``, a clean
environment without credentials, child processes) run in a fresh interpreter; the others route
in-process through the ``aws`` fixture, which always unroutes.
"""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time

import boto3
import pytest
from botocore.exceptions import ClientError, WaiterError
from sagepipe import _service

MiB = 1024 * 1024


def _without_aws_settings(env, tmp_path):
    """``env`` with no AWS credentials, region or config reachable (and no instance metadata)."""
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    home = tmp_path / "empty-home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(tmp_path / "no-such-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-such-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


class Aws:
    """Clients of one boto3 session routed to a temporary store."""

    def __init__(self, store):
        self.store = store
        self.session = boto3.session.Session()
        self.s3 = self.session.client("s3")
        self.s3r = self.session.resource("s3")
        self.sts = self.session.client("sts")
        self.sm = self.session.client("sagemaker")

    def object_file(self, bucket, key=""):
        return self.store / "s3" / bucket / key


@pytest.fixture
def aws(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in _without_aws_settings({}, tmp_path).items():
        monkeypatch.setenv(name, value)
    store = tmp_path / "store"
    _service.route(store=str(store))
    try:
        yield Aws(store)
    finally:
        _service.unroute()


def run_python(code, env, timeout=120):
    """Run ``code`` in a fresh interpreter with ``env``; its stdout (the test fails on exit != 0)."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def error_of(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---- S3 objects ----


def test_put_get_head_delete(aws):
    body = b"hello, local s3\n"
    put = aws.s3.put_object(Bucket="data", Key="folder/sub/greeting.txt", Body=body)
    md5 = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == md5
    assert aws.object_file("data", "folder/sub/greeting.txt").read_bytes() == body

    got = aws.s3.get_object(Bucket="data", Key="folder/sub/greeting.txt")
    assert got["Body"].read() == body
    assert (got["ContentLength"], got["ETag"]) == (len(body), md5)
    head = aws.s3.head_object(Bucket="data", Key="folder/sub/greeting.txt")
    assert (head["ContentLength"], head["ETag"]) == (len(body), md5)
    assert head["LastModified"].tzinfo is not None

    deleted = aws.s3.delete_object(Bucket="data", Key="folder/sub/greeting.txt")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204  # S3's No Content, which scripts check
    assert not aws.object_file("data", "folder").exists()  # no empty folders left behind
    with pytest.raises(aws.s3.exceptions.NoSuchKey):
        aws.s3.get_object(Bucket="data", Key="folder/sub/greeting.txt")
    aws.s3.delete_object(Bucket="data", Key="folder/sub/greeting.txt")  # deleting again is fine, as in S3


def test_missing_key(aws):
    aws.s3.put_object(Bucket="data", Key="present", Body=b"x")
    with pytest.raises(aws.s3.exceptions.NoSuchKey) as get_error:
        aws.s3.get_object(Bucket="data", Key="absent/key.txt")
    assert error_of(get_error) == ("NoSuchKey", 404)
    assert "absent/key.txt" in str(get_error.value)
    # HEAD has no error body: botocore reports the status code, and code that checks for '404' works.
    with pytest.raises(ClientError) as head_error:
        aws.s3.head_object(Bucket="data", Key="absent/key.txt")
    assert error_of(head_error) == ("404", 404)


@pytest.mark.parametrize(
    "byte_range, expected, content_range",
    [
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),  # open-ended
        ("bytes=-4", b"6789", "bytes 6-9/10"),  # suffix: the last 4 bytes
        ("bytes=0-99", b"0123456789", "bytes 0-9/10"),  # past the end: up to the end
        ("bytes=-50", b"0123456789", "bytes 0-9/10"),
    ],
)
def test_ranged_get(aws, byte_range, expected, content_range):
    aws.s3.put_object(Bucket="data", Key="digits", Body=b"0123456789")
    got = aws.s3.get_object(Bucket="data", Key="digits", Range=byte_range)
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206


def test_unsatisfiable_range(aws):
    aws.s3.put_object(Bucket="data", Key="digits", Body=b"0123456789")
    with pytest.raises(ClientError) as excinfo:
        aws.s3.get_object(Bucket="data", Key="digits", Range="bytes=10-")
    assert error_of(excinfo) == ("InvalidRange", 416)


def test_large_file_upload_and_download_use_multipart_and_ranged_gets(aws, tmp_path):
    data = os.urandom(2 * 8 * MiB + 12345)  # three parts at s3transfer's 8 MiB default
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    calls = []
    aws.s3.meta.events.register(
        "before-parameter-build.s3", lambda model, params, **_: calls.append((model.name, dict(params)))
    )
    uploaded = []
    aws.s3.upload_file(str(source), "data", "big/file.bin", Callback=uploaded.append)
    assert sum(uploaded) == len(data)  # progress callbacks count, as over HTTP
    uploads = [name for name, _ in calls]
    assert uploads.count("CreateMultipartUpload") == 1 and uploads.count("CompleteMultipartUpload") == 1
    assert uploads.count("UploadPart") == 3
    assert aws.object_file("data", "big/file.bin").read_bytes() == data
    assert not any((aws.store / "multipart").iterdir())  # the parts are gone

    calls.clear()
    target = tmp_path / "down.bin"
    downloaded = []
    aws.s3.download_file("data", "big/file.bin", str(target), Callback=downloaded.append)
    assert target.read_bytes() == data
    assert sum(downloaded) == len(data)
    etag = aws.s3.head_object(Bucket="data", Key="big/file.bin")["ETag"]
    gets = [params for name, params in calls if name == "GetObject"]
    assert len(gets) == 3
    assert {g["IfMatch"] for g in gets} == {etag}  # every part is of the same object version
    assert sorted(g["Range"] for g in gets) == ["bytes=0-8388607", "bytes=16777216-", "bytes=8388608-16777215"]


def test_managed_copy_of_a_large_object(aws):
    """client.copy / Bucket.copy copy objects over 8 MiB part by part (UploadPartCopy)."""
    data = os.urandom(8 * MiB + 4321)
    aws.s3.put_object(Bucket="data", Key="src/model.tar.gz", Body=data)
    aws.s3.copy({"Bucket": "data", "Key": "src/model.tar.gz"}, "other", "dst/model.tar.gz")
    assert aws.object_file("other", "dst/model.tar.gz").read_bytes() == data
    aws.s3r.Bucket("third").copy({"Bucket": "data", "Key": "src/model.tar.gz"}, "model.tar.gz")
    assert aws.s3.get_object(Bucket="third", Key="model.tar.gz")["Body"].read() == data

    upload = aws.s3.create_multipart_upload(Bucket="data", Key="reversed")["UploadId"]
    halves = [("bytes=4194304-", 1), ("bytes=0-4194303", 2)]
    parts = [
        {"PartNumber": n, "ETag": aws.s3.upload_part_copy(
            Bucket="data", Key="reversed", UploadId=upload, PartNumber=n,
            CopySource="data/src/model.tar.gz", CopySourceRange=byte_range,
        )["CopyPartResult"]["ETag"]}
        for byte_range, n in halves
    ]  # fmt: skip
    aws.s3.complete_multipart_upload(Bucket="data", Key="reversed", UploadId=upload, MultipartUpload={"Parts": parts})
    assert aws.object_file("data", "reversed").read_bytes() == data[4 * MiB :] + data[: 4 * MiB]


def test_small_upload_file_reports_progress(aws, tmp_path):
    source = tmp_path / "small.csv"
    source.write_bytes(b"a,b\n" * 1000)
    progress = []
    aws.s3.upload_file(str(source), "data", "small.csv", Callback=progress.append)
    assert sum(progress) == 4000
    assert aws.object_file("data", "small.csv").read_bytes() == source.read_bytes()


def test_conditional_gets(aws):
    """s3transfer names the ETag of the object it started downloading: a replaced object fails
    the remaining parts instead of mixing two versions."""
    aws.s3.put_object(Bucket="data", Key="k", Body=b"first")
    etag = aws.s3.head_object(Bucket="data", Key="k")["ETag"]
    assert aws.s3.get_object(Bucket="data", Key="k", IfMatch=etag)["Body"].read() == b"first"
    aws.s3.put_object(Bucket="data", Key="k", Body=b"second")
    with pytest.raises(ClientError) as get_error:
        aws.s3.get_object(Bucket="data", Key="k", IfMatch=etag, Range="bytes=0-2")
    assert error_of(get_error) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as head_error:
        aws.s3.head_object(Bucket="data", Key="k", IfMatch=etag)
    assert error_of(head_error) == ("412", 412)
    current = aws.s3.head_object(Bucket="data", Key="k")["ETag"]
    with pytest.raises(ClientError) as not_modified:
        aws.s3.get_object(Bucket="data", Key="k", IfNoneMatch=current)
    assert error_of(not_modified) == ("304", 304)
    assert aws.s3.get_object(Bucket="data", Key="k", IfNoneMatch=etag)["Body"].read() == b"second"


# ---- listings ----

KEYS = [f"logs/{i:02d}.txt" for i in range(5)] + [f"logs/run{r}/{i}.txt" for r in range(3) for i in range(2)]
KEYS += ["logs.txt", "other/x.txt"]


def _put_all(aws, keys, bucket="data"):
    for key in keys:
        aws.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())


def test_list_v2_prefix_and_pagination(aws):
    _put_all(aws, KEYS)
    pages = list(
        aws.s3.get_paginator("list_objects_v2").paginate(
            Bucket="data", Prefix="logs/", PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(p["Contents"]) for p in pages] == [3, 3, 3, 2]
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(k for k in KEYS if k.startswith("logs/"))
    sizes = {o["Key"]: o["Size"] for p in pages for o in p["Contents"]}
    assert sizes["logs/00.txt"] == len("logs/00.txt")


def test_list_v2_delimiter_pages_count_common_prefixes(aws):
    _put_all(aws, KEYS)
    pages = list(
        aws.s3.get_paginator("list_objects_v2").paginate(
            Bucket="data", Prefix="logs/", Delimiter="/", PaginationConfig={"PageSize": 2}
        )
    )
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert keys == [f"logs/{i:02d}.txt" for i in range(5)]
    assert prefixes == ["logs/run0/", "logs/run1/", "logs/run2/"]  # each once, though they hold 2 keys
    assert all(p["KeyCount"] <= 2 for p in pages) and len(pages) == 4

    top = aws.s3.list_objects_v2(Bucket="data", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["logs.txt"]
    assert [c["Prefix"] for c in top["CommonPrefixes"]] == ["logs/", "other/"]


def test_list_v2_start_after_and_max_keys(aws):
    _put_all(aws, KEYS)
    listed = aws.s3.list_objects_v2(Bucket="data", StartAfter="logs/run1/0.txt")
    assert [o["Key"] for o in listed["Contents"]] == [
        "logs/run1/1.txt",
        "logs/run2/0.txt",
        "logs/run2/1.txt",
        "other/x.txt",
    ]
    assert listed["StartAfter"] == "logs/run1/0.txt" and not listed["IsTruncated"]
    first = aws.s3.list_objects_v2(Bucket="data", Prefix="logs/", MaxKeys=4)
    assert first["IsTruncated"] and first["KeyCount"] == 4
    rest = aws.s3.list_objects_v2(Bucket="data", Prefix="logs/", ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in first["Contents"] + rest["Contents"]] == sorted(k for k in KEYS if k.startswith("logs/"))
    assert aws.s3.list_objects_v2(Bucket="never-written")["KeyCount"] == 0


def test_list_v1_pagination_with_markers(aws):
    _put_all(aws, KEYS)
    paginator = aws.s3.get_paginator("list_objects")
    pages = list(paginator.paginate(Bucket="data", PaginationConfig={"PageSize": 4}))
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(KEYS)
    delimited = list(paginator.paginate(Bucket="data", Prefix="logs/", Delimiter="/", PaginationConfig={"PageSize": 3}))
    assert [c["Prefix"] for p in delimited for c in p.get("CommonPrefixes", [])] == [
        "logs/run0/",
        "logs/run1/",
        "logs/run2/",
    ]
    assert delimited[1]["NextMarker"] == "logs/run0/"  # S3's marker after a common prefix is the prefix
    after = aws.s3.list_objects(Bucket="data", Marker="logs/run2/0.txt")
    assert [o["Key"] for o in after["Contents"]] == ["logs/run2/1.txt", "other/x.txt"]


SPECIAL_KEYS = [
    "odd/with space.txt",
    "odd/percent%41%2F.txt",
    "odd/plus+sign.txt",
    "odd/ünïcødé/数据.csv",
    "odd/query?a=b&c=d#frag.txt",
    "odd/tilde~and'quote\".txt",
]


@pytest.mark.parametrize("operation", ["list_objects", "list_objects_v2"])
def test_listed_keys_come_back_exactly(aws, operation):
    """botocore asks for URL-encoded keys (EncodingType=url) and decodes them, '+' as a space."""
    _put_all(aws, SPECIAL_KEYS)
    list_objects = getattr(aws.s3, operation)
    assert [o["Key"] for o in list_objects(Bucket="data", Prefix="odd/")["Contents"]] == sorted(SPECIAL_KEYS)
    flat = sorted(k for k in SPECIAL_KEYS if k.count("/") == 1)
    delimited = list_objects(Bucket="data", Prefix="odd/", Delimiter="/")
    assert [o["Key"] for o in delimited["Contents"]] == flat
    assert [c["Prefix"] for c in delimited["CommonPrefixes"]] == ["odd/ünïcødé/"]
    pages = aws.s3.get_paginator(operation).paginate(
        Bucket="data", Delimiter="/", Prefix="odd/", PaginationConfig={"PageSize": 1}
    )
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == flat
    for key in SPECIAL_KEYS:
        assert aws.s3.get_object(Bucket="data", Key=key)["Body"].read() == key.encode()


def test_key_fields_of_listings_are_not_mangled(aws):
    """Prefix, StartAfter and markers hold keys too: S3 sends them URL-encoded and botocore
    decodes them ('+' as a space), so a '+' in them must survive (a paginator looped on it)."""
    _put_all(aws, ["a+b/1.txt", "a+b/c+d/2.txt", "a+b/c+d/3.txt", "a b/4.txt", "z/5.txt"])
    listed = aws.s3.list_objects_v2(Bucket="data", Prefix="a+b/", Delimiter="/", StartAfter="a+b/0")
    assert (listed["Prefix"], listed["StartAfter"]) == ("a+b/", "a+b/0")
    assert [o["Key"] for o in listed["Contents"]] == ["a+b/1.txt"]
    assert [c["Prefix"] for c in listed["CommonPrefixes"]] == ["a+b/c+d/"]
    marker = aws.s3.list_objects(Bucket="data", Marker="a+b/1.txt")
    assert marker["Marker"] == "a+b/1.txt"
    assert [o["Key"] for o in marker["Contents"]] == ["a+b/c+d/2.txt", "a+b/c+d/3.txt", "z/5.txt"]
    pages = aws.s3.get_paginator("list_objects").paginate(
        Bucket="data", Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    assert [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])] == ["a b/", "a+b/", "z/"]


# ---- copy, bulk delete, buckets ----


def test_copy_object_with_string_and_dict_sources(aws):
    source_key = "src/a file+with%chars.txt"
    aws.s3.put_object(Bucket="from", Key=source_key, Body=b"payload")
    copied = aws.s3.copy_object(Bucket="to", Key="copy/one", CopySource=f"from/{source_key}")
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    aws.s3.copy_object(Bucket="to", Key="copy/two", CopySource={"Bucket": "from", "Key": source_key})
    for key in ("copy/one", "copy/two"):
        assert aws.s3.get_object(Bucket="to", Key=key)["Body"].read() == b"payload"
    assert aws.s3.get_object(Bucket="from", Key=source_key)["Body"].read() == b"payload"
    with pytest.raises(aws.s3.exceptions.NoSuchKey):
        aws.s3.copy_object(Bucket="to", Key="copy/three", CopySource={"Bucket": "from", "Key": "missing"})


def test_delete_objects(aws):
    _put_all(aws, ["d/1", "d/2", "d/3", "keep"])
    result = aws.s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "d/1"}, {"Key": "d/2"}, {"Key": "d/9"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["d/1", "d/2", "d/9"]  # S3 reports absent keys deleted
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket="data")["Contents"]] == ["d/3", "keep"]
    quiet = aws.s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "d/3"}], "Quiet": True})
    assert "Deleted" not in quiet
    # A key the store refuses is reported on its own; the rest of the batch is deleted.
    _put_all(aws, ["e/1"])
    mixed = aws.s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "../x"}, {"Key": "e/1"}]})
    assert [d["Key"] for d in mixed["Deleted"]] == ["e/1"]
    assert [(e["Key"], e["Code"]) for e in mixed["Errors"]] == [("../x", "InvalidArgument")]
    assert not aws.object_file("data", "d").exists()


def test_bucket_lifecycle(aws):
    aws.s3.create_bucket(Bucket="fresh")
    assert aws.object_file("fresh").is_dir()
    aws.s3.head_bucket(Bucket="fresh")
    assert "fresh" in [b["Name"] for b in aws.s3.list_buckets()["Buckets"]]
    aws.s3.put_object(Bucket="fresh", Key="deep/inside", Body=b"1")
    with pytest.raises(ClientError) as excinfo:
        aws.s3.delete_bucket(Bucket="fresh")
    assert error_of(excinfo) == ("BucketNotEmpty", 409)
    aws.s3.delete_object(Bucket="fresh", Key="deep/inside")
    assert aws.s3.delete_bucket(Bucket="fresh")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "fresh" not in [b["Name"] for b in aws.s3.list_buckets()["Buckets"]]
    assert not aws.object_file("fresh").exists()


# ---- what a folder-backed store cannot hold ----


def test_a_key_that_is_also_a_prefix_of_other_keys(aws):
    aws.s3.put_object(Bucket="data", Key="model/part-1", Body=b"1")
    with pytest.raises(ClientError) as excinfo:
        aws.s3.put_object(Bucket="data", Key="model", Body=b"2")
    assert error_of(excinfo) == ("InvalidArgument", 409)
    assert "objects exist under 'model/'" in str(excinfo.value)
    assert "a key cannot also be a folder" in str(excinfo.value)
    assert aws.s3.get_object(Bucket="data", Key="model/part-1")["Body"].read() == b"1"


def test_a_key_under_an_existing_object(aws):
    """The other way round: ``a/b`` where ``a`` is an object (was a raw FileExistsError)."""
    aws.s3.put_object(Bucket="data", Key="report", Body=b"r")
    for store_it in (
        lambda: aws.s3.put_object(Bucket="data", Key="report/extra.txt", Body=b"x"),
        lambda: aws.s3.copy_object(Bucket="data", Key="report/deeper/copy", CopySource="data/report"),
        lambda: aws.s3.create_multipart_upload(Bucket="data", Key="report/multi"),
    ):
        with pytest.raises(ClientError) as excinfo:
            store_it()
        assert error_of(excinfo) == ("InvalidArgument", 409)
        assert "s3://data/report is an object" in str(excinfo.value)
    assert aws.s3.get_object(Bucket="data", Key="report")["Body"].read() == b"r"


def test_keys_ending_in_a_slash(aws):
    """'a/' and 'a' are the same path in the store: 'a/' must not read, replace or delete the
    object 'a' (a delete of 'a/' removed it), and a folder marker cannot hold content (it was
    dropped silently)."""
    aws.s3.put_object(Bucket="data", Key="a", Body=b"object a")
    with pytest.raises(aws.s3.exceptions.NoSuchKey):
        aws.s3.get_object(Bucket="data", Key="a/")
    with pytest.raises(ClientError) as head_error:
        aws.s3.head_object(Bucket="data", Key="a/")
    assert error_of(head_error) == ("404", 404)
    with pytest.raises(ClientError) as put_error:  # was a raw FileExistsError
        aws.s3.put_object(Bucket="data", Key="a/", Body=b"")
    assert error_of(put_error) == ("InvalidArgument", 409) and "s3://data/a is an object" in str(put_error.value)
    aws.s3.delete_object(Bucket="data", Key="a/")
    assert aws.s3.get_object(Bucket="data", Key="a")["Body"].read() == b"object a"

    aws.s3.put_object(Bucket="data", Key="empty-folder/", Body=b"")
    assert aws.object_file("data", "empty-folder").is_dir()
    assert aws.s3.head_object(Bucket="data", Key="empty-folder/")["ContentLength"] == 0
    for store_content in (
        lambda: aws.s3.put_object(Bucket="data", Key="full-folder/", Body=b"content"),
        lambda: aws.s3.copy_object(Bucket="data", Key="full-folder/", CopySource="data/a"),
    ):
        with pytest.raises(ClientError) as excinfo:
            store_content()
        assert error_of(excinfo) == ("InvalidArgument", 400)
        assert "cannot hold content" in str(excinfo.value)
    assert not aws.object_file("data", "full-folder").exists()

    # A folder marker copies as the empty object it is (copyfile of its folder raised).
    aws.s3.copy_object(Bucket="data", Key="copied-folder/", CopySource="data/empty-folder/")
    assert aws.object_file("data", "copied-folder").is_dir()
    aws.s3.copy_object(Bucket="data", Key="empty-file", CopySource={"Bucket": "data", "Key": "empty-folder/"})
    assert aws.s3.get_object(Bucket="data", Key="empty-file")["Body"].read() == b""
    upload = aws.s3.create_multipart_upload(Bucket="data", Key="empty-too")["UploadId"]
    part = aws.s3.upload_part_copy(
        Bucket="data", Key="empty-too", UploadId=upload, PartNumber=1, CopySource="data/empty-folder/"
    )
    parts = [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]
    aws.s3.complete_multipart_upload(Bucket="data", Key="empty-too", UploadId=upload, MultipartUpload={"Parts": parts})
    assert aws.object_file("data", "empty-too").read_bytes() == b""


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "a/./b", "a/.."])
def test_keys_that_leave_the_bucket_are_refused(aws, key):
    with pytest.raises(ClientError) as excinfo:
        aws.s3.put_object(Bucket="data", Key=key, Body=b"x")
    assert error_of(excinfo) == ("InvalidArgument", 400)
    assert "'..'" in str(excinfo.value)
    with pytest.raises(ClientError):
        aws.s3.get_object(Bucket="data", Key=key)
    assert not list(aws.store.rglob("escape.txt"))


def test_bucket_names_that_leave_the_store_are_refused(aws):
    for call in (
        lambda: aws.s3.create_bucket(Bucket=".."),
        lambda: aws.s3.list_objects_v2(Bucket=".."),  # was a raw sagepipe ValidationError
        lambda: aws.s3.list_objects(Bucket=".."),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("InvalidArgument", 400)


# ---- boto3's resource API, code sidecars, the mirror's Session ----


def test_resource_api(aws):
    bucket = aws.s3r.Bucket("res")
    bucket.create()
    bucket.put_object(Key="x/one.txt", Body=b"one")
    aws.s3r.Object("res", "x/two.txt").put(Body=b"two")
    bucket.upload_fileobj(__import__("io").BytesIO(b"three"), "y/three.txt")
    assert [o.key for o in bucket.objects.all()] == ["x/one.txt", "x/two.txt", "y/three.txt"]
    assert [o.key for o in bucket.objects.filter(Prefix="x/t")] == ["x/two.txt"]
    obj = aws.s3r.Object("res", "x/one.txt")
    assert obj.content_length == 3 and obj.e_tag == f'"{hashlib.md5(b"one").hexdigest()}"'
    assert obj.get()["Body"].read() == b"one"
    bucket.objects.filter(Prefix="x/").delete()
    assert [o.key for o in bucket.objects.all()] == ["y/three.txt"]
    assert "res" in [b.name for b in aws.s3r.buckets.all()]


def test_code_sidecars_are_never_listed(aws, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('training')\n")
    aws.s3.upload_file(str(script), "code", "src/train.py")
    aws.s3.put_object(Bucket="code", Key="src/util.py", Body=b"X = 1\n")
    aws.s3.put_object(Bucket="code", Key="src/data.csv", Body=b"1,2\n")
    on_disk = sorted(p.name for p in aws.object_file("code", "src").iterdir())
    assert on_disk == ["data.csv", "train.py", "train.py.sagepipe-code.json", "util.py", "util.py.sagepipe-code.json"]
    listed = ["src/data.csv", "src/train.py", "src/util.py"]
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket="code")["Contents"]] == listed
    assert [o["Key"] for o in aws.s3.list_objects(Bucket="code", Prefix="src/")["Contents"]] == listed
    assert [o.key for o in aws.s3r.Bucket("code").objects.all()] == listed
    aws.s3.delete_object(Bucket="code", Key="src/train.py")
    assert not aws.object_file("code", "src/train.py.sagepipe-code.json").exists()


def test_keys_that_look_like_store_bookkeeping_are_still_objects(aws):
    """Only the store's own temporaries are hidden, not every dot-file ending in '.tmp'."""
    keys = [".cache.tmp", "work/.partial.tmp", "work/.profile", "work/report.tmp"]
    _put_all(aws, keys)
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket="data")["Contents"]] == sorted(keys)
    (aws.object_file("data", "work") / ".half-written.csv.4242-139871.tmp").write_bytes(b"partial")
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket="data", Prefix="work/")["Contents"]] == sorted(
        k for k in keys if k.startswith("work/")
    )


def test_concurrent_puts_of_one_key(aws):
    """Threads writing the same key each replace it whole (they shared one temporary file, and
    some failed with FileNotFoundError)."""
    import concurrent.futures

    bodies = [bytes([65 + i]) * MiB for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        for done in [pool.submit(aws.s3.put_object, Bucket="data", Key="same", Body=b) for b in bodies * 3]:
            done.result()
    assert aws.s3.get_object(Bucket="data", Key="same")["Body"].read() in bodies
    assert sorted(p.name for p in aws.object_file("data").iterdir()) == ["same"]


def test_objects_are_shared_with_the_mirror_session(aws):
    from sagepipe.session import Session

    session = Session(store=aws.store)
    aws.s3.put_object(Bucket="shared", Key="from/boto3.txt", Body="written by boto3 ✓".encode())
    assert session.read_s3_file("shared", "from/boto3.txt") == "written by boto3 ✓"
    session.upload_string_as_file_body("written by sagepipe", "shared", "from/sagepipe.txt")
    assert aws.s3.get_object(Bucket="shared", Key="from/sagepipe.txt")["Body"].read() == b"written by sagepipe"
    listed = [o["Key"] for o in aws.s3.list_objects_v2(Bucket="shared", Prefix="from/")["Contents"]]
    assert listed == session.list_s3_files("shared", "from/") == ["from/boto3.txt", "from/sagepipe.txt"]


# ---- STS and SageMaker ----


def test_caller_identity(aws):
    identity = aws.sts.get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:sts::000000000000:assumed-role/SageMakerExecutionRole/sagepipe"


DEFINITION = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [{"Name": "Mode", "Type": "String", "DefaultValue": "go"}],
    "PipelineExperimentConfig": None,
    "Steps": [
        {
            "Name": "Check",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": "go"}],
                "IfSteps": [],
                "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "mode is not go"}}],
            },
        }
    ],
}


def completion_waiter(client, delay=30, max_attempts=60):
    """``PipelineExecutionComplete`` the way the SDK builds it (botocore has no such waiter)."""
    import botocore.waiter

    acceptors = [
        {"expected": "Succeeded", "matcher": "path", "state": "success", "argument": "PipelineExecutionStatus"},
        {"expected": "Failed", "matcher": "path", "state": "failure", "argument": "PipelineExecutionStatus"},
    ]
    config = {"delay": delay, "maxAttempts": max_attempts, "operation": "DescribePipelineExecution"}
    model = botocore.waiter.WaiterModel(
        {"version": 2, "waiters": {"PipelineExecutionComplete": {**config, "acceptors": acceptors}}}
    )
    return botocore.waiter.create_waiter_with_client("PipelineExecutionComplete", model, client)


def test_pipeline_create_describe_start_and_wait(aws):
    sm = aws.sm
    assert sm.list_pipelines()["PipelineSummaries"] == []
    arn = sm.create_pipeline(
        PipelineName="gate", PipelineDefinition=json.dumps(DEFINITION), RoleArn="arn:aws:iam::000000000000:role/r"
    )["PipelineArn"]
    described = sm.describe_pipeline(PipelineName="gate")
    assert (described["PipelineArn"], described["PipelineName"]) == (arn, "gate")
    assert json.loads(described["PipelineDefinition"]) == DEFINITION
    assert [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]] == ["gate"]

    execution = sm.start_pipeline_execution(PipelineName="gate")["PipelineExecutionArn"]
    started = time.monotonic()
    completion_waiter(sm).wait(PipelineExecutionArn=execution)
    assert time.monotonic() - started < 10  # the waiter's delay is 30 s: it did not sleep between polls
    assert sm.describe_pipeline_execution(PipelineExecutionArn=execution)["PipelineExecutionStatus"] == "Succeeded"

    failing = sm.start_pipeline_execution(PipelineName="gate", PipelineParameters=[{"Name": "Mode", "Value": "halt"}])
    started = time.monotonic()
    with pytest.raises(WaiterError) as excinfo:
        completion_waiter(sm).wait(PipelineExecutionArn=failing["PipelineExecutionArn"])
    assert time.monotonic() - started < 10
    assert excinfo.value.last_response["PipelineExecutionStatus"] == "Failed"
    assert "terminal failure state" in str(excinfo.value)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=failing["PipelineExecutionArn"])
    stop = [s for s in steps["PipelineExecutionSteps"] if s["StepName"] == "Stop"]
    assert stop[0]["StepStatus"] == "Failed" and "mode is not go" in stop[0]["FailureReason"]


def test_unknown_pipeline_and_execution(aws):
    with pytest.raises(aws.sm.exceptions.ResourceNotFound) as pipeline_error:
        aws.sm.describe_pipeline(PipelineName="nothing-here")
    assert "nothing-here" in str(pipeline_error.value)
    arn = "arn:aws:sagemaker:us-east-1:000000000000:pipeline/nothing-here/execution/abc123"
    with pytest.raises(ClientError) as execution_error:
        aws.sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert execution_error.value.response["Error"]["Code"] == "ResourceNotFound"


# ---- routing: fresh interpreters ----


@pytest.fixture
def clean_env(tmp_path):
    """The environment of a machine that never saw AWS: no credentials, region or config."""
    env = _without_aws_settings(os.environ, tmp_path)
    env["SAGEPIPE_STORE"] = str(tmp_path / "store")
    env.pop("SAGEPIPE_ROUTE_AWS", None)
    return env


def test_operations_not_served_fail_at_once_without_credentials(clean_env):
    out = run_python(
        """
        import time
        import sagepipe._service as service
        service.route()
        import boto3
        from botocore.exceptions import ClientError
        calls = {
            "S3 PutBucketPolicy": lambda: boto3.client("s3").put_bucket_policy(Bucket="b", Policy="{}"),
            "SageMaker CreateEndpoint": lambda: boto3.client("sagemaker").create_endpoint(
                EndpointName="e", EndpointConfigName="c"),
            "SageMaker CreateProcessingJob": lambda: boto3.client("sagemaker").create_processing_job(
                ProcessingJobName="j", RoleArn="arn:aws:iam::000000000000:role/r",
                ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                       "VolumeSizeInGB": 1}},
                AppSpecification={"ImageUri": "image"}),
        }
        for name, call in calls.items():
            started = time.monotonic()
            try:
                call()
            except ClientError as error:
                elapsed = time.monotonic() - started
                print(name, "|", error.response["Error"]["Code"], "|", error, "|", elapsed < 2,
                      error.response["ResponseMetadata"]["RetryAttempts"])
        """,
        clean_env,
    )
    lines = [line.split(" | ") for line in out.strip().splitlines()]
    assert len(lines) == 3
    for name, code, message, quick in lines:
        service, operation = name.split()
        assert code == "NotServedLocally"
        assert f"does not serve the {service} operation {operation}" in message
        assert quick == "True 0"  # at once, and not retried


def test_other_services_are_untouched(clean_env):
    out = run_python(
        """
        import boto3
        from botocore.exceptions import NoCredentialsError
        import sagepipe._service as service
        service.route()
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
        operation = dynamodb.meta.service_model.operation_model("ListTables")
        answered = dynamodb.meta.events.emit_until_response(
            "before-call.dynamodb.ListTables", model=operation, params={}, request_signer=None, context={})
        print("local answer:", answered[1])
        try:
            dynamodb.list_tables()  # needs credentials before any request is made
        except NoCredentialsError:
            print("dynamodb: no credentials")
        s3 = boto3.client("s3")
        answered = s3.meta.events.emit_until_response(
            "before-call.s3.ListBuckets", model=s3.meta.service_model.operation_model("ListBuckets"),
            params={}, request_signer=None, context={"sagepipe_api_params": {}})
        print("s3 answered locally:", answered[1] is not None)
        """,
        clean_env,
    )
    assert out.splitlines() == ["local answer: None", "dynamodb: no credentials", "s3 answered locally: True"]


def test_clients_made_before_route_are_routed_until_unroute(clean_env):
    """Clients a script made before routing (an S3 client holds a weakref proxy of itself, which
    once broke ``route()``) answer locally while routed and need AWS again afterwards."""
    out = run_python(
        """
        import os
        import boto3
        import botocore.session, botocore.waiter
        from botocore.config import Config
        from botocore.exceptions import NoCredentialsError
        import sagepipe._service as service

        offline = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 0})
        def make(name):
            return boto3.client(name, region_name="us-east-1", endpoint_url="http://127.0.0.1:9", config=offline)
        def probe(client, call):
            try:
                return type(getattr(client, call)()).__name__
            except NoCredentialsError:
                return "NoCredentialsError"
        s3, sts = make("s3"), make("sts")
        print("before:", probe(s3, "list_buckets"), probe(sts, "get_caller_identity"))
        service.route()
        s3.put_object(Bucket="b", Key="k", Body=b"v")
        print("routed:", probe(s3, "list_buckets"), sts.get_caller_identity()["Account"], service.routed_services())
        print("region:", os.environ.get("AWS_DEFAULT_REGION"), "|", os.environ["SAGEPIPE_ROUTE_AWS"])
        service.unroute()
        print("after:", probe(s3, "list_buckets"), probe(sts, "get_caller_identity"), probe(make("s3"), "list_buckets"))
        print("env:", os.environ.get("AWS_DEFAULT_REGION"), os.environ.get("SAGEPIPE_ROUTE_AWS"),
              "startup" in os.environ.get("PYTHONPATH", ""), service.routed_services())
        print("patches:", [f.__module__ for f in (botocore.session.Session.create_client,
                                                   botocore.waiter.create_waiter_with_client)])
        """,
        clean_env,
    )
    assert out.splitlines() == [
        "before: NoCredentialsError NoCredentialsError",
        "routed: dict 000000000000 ('sagemaker', 's3', 'sts', 'iam')",
        "region: us-east-1 | sagemaker,s3,sts,iam",
        "after: NoCredentialsError NoCredentialsError NoCredentialsError",
        "env: None None False ()",
        "patches: ['botocore.session', 'botocore.waiter']",
    ]
    with open(os.path.join(clean_env["SAGEPIPE_STORE"], "s3", "b", "k")) as f:
        assert f.read() == "v"


def test_child_processes_inherit_routing(clean_env):
    out = run_python(
        """
        import subprocess, sys
        import boto3
        import sagepipe._service as service
        service.route(["s3"])
        boto3.client("s3").put_object(Bucket="b", Key="parent.txt", Body=b"from the parent")
        child = (
            "import boto3; s3 = boto3.client('s3'); "
            "text = s3.get_object(Bucket='b', Key='parent.txt')['Body'].read(); "
            "s3.put_object(Bucket='b', Key='child.txt', Body=text + b', seen by the child')"
        )
        subprocess.run([sys.executable, "-c", child], check=True)
        print(boto3.client("s3").get_object(Bucket="b", Key="child.txt")["Body"].read().decode())
        """,
        clean_env,
    )
    assert out.strip() == "from the parent, seen by the child"


def test_children_load_botocore_only_when_they_use_it(clean_env, tmp_path):
    """Routing in a child waits for ``import boto3``/``botocore`` (importing botocore and
    sagepipe at every Python start-up cost ~0.4 s per job), and a ``sitecustomize`` of the
    user's that the routing one shadows still runs."""
    own = tmp_path / "own-site"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE'] = 'ran'\n")
    clean_env["PYTHONPATH"] = str(own)
    out = run_python(
        """
        import subprocess, sys
        import sagepipe._service as service
        service.route(["s3"])
        idle = "import os, sys; print(os.environ.get('USER_SITECUSTOMIZE'), 'botocore' in sys.modules)"
        busy = (
            "import botocore.session, sys; print('sagepipe._service' in sys.modules); "
            "s3 = botocore.session.get_session().create_client('s3'); "
            "print(s3.list_objects_v2(Bucket='b')['KeyCount'])"
        )
        for code in (idle, busy):
            print(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
        """,
        clean_env,
    )
    assert out.split() == ["ran", "False", "True", "0"]


JOB_SCRIPT = """\
import os
import boto3

s3 = boto3.client("s3")  # no region, no credentials: the job inherits the routing
text = s3.get_object(Bucket="data", Key="in/message.txt")["Body"].read().decode()
s3.put_object(Bucket="data", Key="out/reply.txt", Body=f"{text.upper()} (job saw {os.environ['SAGEPIPE_ROUTE_AWS']})")
"""


def test_a_processing_job_reads_and_writes_the_store_with_boto3(clean_env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "echo.py").write_text(JOB_SCRIPT)
    out = run_python(
        f"""
        import os
        os.chdir({str(project)!r})
        import sagepipe
        sagepipe.install(sdk="mirror")
        import boto3
        from sagemaker.processing import ScriptProcessor
        from sagemaker.workflow.pipeline import Pipeline
        from sagemaker.workflow.pipeline_context import PipelineSession
        from sagemaker.workflow.steps import ProcessingStep

        s3 = boto3.client("s3")
        s3.put_object(Bucket="data", Key="in/message.txt", Body=b"hello from the parent")
        session = PipelineSession(default_bucket="bucket")
        processor = ScriptProcessor(
            role="arn:aws:iam::000000000000:role/local", image_uri="python:3.11", command=["python3"],
            instance_count=1, instance_type="ml.m5.large", sagemaker_session=session,
        )
        step = ProcessingStep(name="Echo", step_args=processor.run(code="echo.py"))
        pipeline = Pipeline(name="echo", steps=[step], sagemaker_session=session)
        pipeline.upsert(role_arn="arn:aws:iam::000000000000:role/local")
        execution = pipeline.start()
        execution.wait()
        print(execution.describe()["PipelineExecutionStatus"])
        print(s3.get_object(Bucket="data", Key="out/reply.txt")["Body"].read().decode())
        """,
        clean_env,
        timeout=300,
    )
    assert out.strip().splitlines()[-2:] == ["Succeeded", "HELLO FROM THE PARENT (job saw s3,sts)"]


def test_a_parameter_sagepipe_does_not_serve_is_named_not_a_type_error(aws):
    with pytest.raises(ClientError) as excinfo:
        aws.sm.list_model_package_groups(MaxResults=5)
    assert excinfo.value.response["Error"]["Code"] == "NotServedLocally"
    assert "parameter(s) MaxResults of the SageMaker operation ListModelPackageGroups" in str(excinfo.value)


def test_a_definition_location_that_does_not_exist_is_a_validation_error(aws):
    location = {"Bucket": "definitions", "ObjectKey": "missing.json"}
    with pytest.raises(ClientError) as excinfo:
        aws.sm.create_pipeline(PipelineName="p", PipelineDefinitionS3Location=location, RoleArn="arn:aws:iam::0:role/r")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "s3://definitions/missing.json cannot be read" in str(excinfo.value)


def test_waiting_on_an_execution_that_does_not_exist_is_a_waiter_error(aws):
    missing = "arn:aws:sagemaker:local:000000000000:pipeline/gate/execution/abcdefabcdef"
    with pytest.raises(WaiterError) as excinfo:
        completion_waiter(aws.sm, delay=1, max_attempts=2).wait(PipelineExecutionArn=missing)
    assert "does not exist" in str(excinfo.value)


def test_pipeline_tags_are_listed_and_added(aws):
    sm = aws.sm
    arn = sm.create_pipeline(
        PipelineName="tagged", PipelineDefinition=json.dumps(DEFINITION), RoleArn="arn:aws:iam::0:role/r",
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "dev"}],
    )["PipelineArn"]  # fmt: skip
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}, {"Key": "stage", "Value": "dev"}]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}, {"Key": "cost", "Value": "7"}])
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "ml", "stage": "prod", "cost": "7"}
    assert sm.describe_pipeline(PipelineName="tagged")["PipelineArn"] == arn
    with pytest.raises(ClientError) as excinfo:
        sm.list_tags(ResourceArn=arn + "/execution/abcdefabcdef")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "keeps the tags of pipelines only" in str(excinfo.value)


def test_small_step_results_are_objects_like_any_other(aws):
    """A @step's small results are kept in the store's database, not as files; through S3 they
    are listed, read, overwritten and deleted like every object, and a selective run notices a
    deleted one."""
    from sagepipe.exceptions import ReferenceExecutionError
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    session = PipelineSession(store=str(aws.store), function_step_mode="in_process")
    first = step(name="First")(lambda: {"n": 41})()
    second = step(name="Second")(lambda r: r["n"] + 1)(first)
    pipeline = Pipeline(name="inline", steps=[second], sagemaker_session=session)
    execution = pipeline.start()
    execution.wait()
    bucket, base = session.default_bucket(), f"inline/{execution.arn.rsplit('/', 1)[1]}"
    assert not aws.object_file(bucket, base).exists(), "kept inline: no file, no directory"
    # What every SDK session does on start-up leaves them inline.
    aws.s3.head_bucket(Bucket=bucket)
    aws.s3.create_bucket(Bucket=bucket)
    assert session.store.inline_object(f"s3://{bucket}/{base}/First/results/payload.pkl") is not None
    listed = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket, Prefix=f"{base}/")["Contents"]]
    assert listed == [f"{base}/{s}/results/{f}" for s in ("First", "Second") for f in ("payload.pkl", "results.json")]
    body = aws.s3.get_object(Bucket=bucket, Key=f"{base}/First/results/results.json")["Body"].read()
    assert json.loads(body) == {"Result": {"n": 41}}
    assert execution.result("First") == {"n": 41}  # read back after the listing made them files

    aws.s3.put_object(Bucket=bucket, Key=f"{base}/Second/results/results.json", Body=b'{"Result": 0}')
    assert aws.s3.get_object(Bucket=bucket, Key=f"{base}/Second/results/results.json")["Body"].read() == (
        b'{"Result": 0}'
    )
    aws.s3.delete_object(Bucket=bucket, Key=f"{base}/First/results/payload.pkl")
    with pytest.raises(ReferenceExecutionError, match="artifact_missing|is missing"):
        pipeline.start(
            selective_execution_config=SelectiveExecutionConfig(
                source_pipeline_execution_arn=execution.arn, selected_steps=["Second"]
            )
        )
