"""S3, locally: buckets and objects are folders and files under the store's ``s3/`` area.

Every bucket name exists (as every bucket a pipeline names exists in the account it was written
for); an object is a file, written atomically. What S3 keeps that a file does not (user
metadata, content type, storage class, versions) is not kept. ETags are the MD5 of the content
up to 8 MiB, as S3's are for single-part uploads; larger objects get a multipart-style ETag
derived from size and modification time, so listing a large store never reads every byte.
"""

import hashlib
import io
import os
import shutil
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sagepipe import _s3_objects
from sagepipe._service._errors import LocalService, ServiceError

MD5_ETAG_LIMIT = 8 * 1024 * 1024
_etag_cache: Dict[Tuple[str, int, int], str] = {}


def _no_content() -> Dict[str, Any]:
    """S3's answer to a deletion: 204 No Content (scripts check for it)."""
    return {"ResponseMetadata": {"HTTPStatusCode": 204}}


def _not_found(bucket: str, key: str) -> ServiceError:
    return ServiceError("NoSuchKey", f"The specified key does not exist: s3://{bucket}/{key}", 404)


def _etag(path: Path, stat: os.stat_result) -> str:
    cache_key = (str(path), stat.st_size, stat.st_mtime_ns)
    tag = _etag_cache.get(cache_key)
    if tag is None:
        if stat.st_size <= MD5_ETAG_LIMIT:
            digest = hashlib.md5(usedforsecurity=False)
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            tag = f'"{digest.hexdigest()}"'
        else:
            identity = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}".encode()
            tag = f'"{hashlib.md5(identity, usedforsecurity=False).hexdigest()}-1"'
        _etag_cache[cache_key] = tag
    return tag


def _modified(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc).replace(microsecond=0)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return body.read()


def _copy_body(body: Any, tmp: Path) -> None:
    with open(tmp, "wb") as out:
        if body is None or isinstance(body, (bytes, bytearray, memoryview, str)):
            out.write(_body_bytes(body))
        else:
            # s3transfer counts upload progress only once it sees the HTTP request go out
            # ('request-created'), which a local answer never makes: start the count here.
            if hasattr(body, "signal_transferring"):
                body.signal_transferring()
            shutil.copyfileobj(body, out, 1 << 20)


class _Slice(io.RawIOBase):
    """``length`` bytes of an open file from its current position (a ranged GetObject body)."""

    def __init__(self, f, length: int):
        self._f, self._left = f, length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._f.read(size)
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._f.close()
        super().close()


def _byte_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """``(first, last)`` of an HTTP ``Range: bytes=...`` header, None for the whole object."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    try:
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), (min(int(last), size - 1) if last else size - 1)
    except ValueError:
        raise ServiceError("InvalidArgument", f"unsupported Range header {header!r}", 400) from None
    if start >= size or start > end:
        raise ServiceError("InvalidRange", f"The requested range {header!r} is not satisfiable (size {size})", 416)
    return start, end


class LocalS3(LocalService):
    service = "S3"
    OPERATIONS = (
        "ListBuckets",
        "CreateBucket",
        "HeadBucket",
        "DeleteBucket",
        "GetBucketLocation",
        "PutObject",
        "GetObject",
        "HeadObject",
        "DeleteObject",
        "DeleteObjects",
        "CopyObject",
        "ListObjects",
        "ListObjectsV2",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
    )

    def __init__(self, store_root: str):
        super().__init__(store_root)
        from sagepipe._core import Store

        self.store = Store(store_root)

    # ---- paths ----

    def _path(self, bucket: str, key: str = "") -> Path:
        try:
            return _s3_objects.object_path(self.store, bucket, key)
        except Exception as exc:  # noqa: BLE001 - the store refuses keys that leave the bucket
            raise ServiceError("InvalidArgument", str(exc), 400) from exc

    def _object(self, bucket: str, key: str) -> Tuple[Path, os.stat_result]:
        path = self._path(bucket, key)
        try:
            stat = path.stat()
        except OSError:
            raise _not_found(bucket, key) from None
        # A folder is a prefix, not an object; 'a/' is not the object 'a' (the paths are the same).
        if path.is_dir() != key.endswith("/"):
            raise _not_found(bucket, key)
        return path, stat

    def _object_target(self, bucket: str, key: str, folder_marker: bool = False) -> Path:
        path = self._path(bucket, key)
        if key.endswith("/") and not folder_marker:
            raise ServiceError(
                "InvalidArgument",
                f"s3://{bucket}/{key} cannot hold content: the local store keeps a key ending in '/' as a "
                "folder (an empty folder-marker object is fine)",
                400,
            )
        if key.endswith("/") and path.is_file():
            raise ServiceError(
                "InvalidArgument",
                f"s3://{bucket}/{key} cannot be stored: s3://{bucket}/{key[:-1]} is an object, and the local "
                "store keeps objects as files in folders, so a key cannot also be a folder",
                409,
            )
        if path.is_dir() and not key.endswith("/"):
            raise ServiceError(
                "InvalidArgument",
                f"s3://{bucket}/{key} cannot be stored: objects exist under '{key}/', and the local store "
                "keeps objects as files in folders, so a key cannot also be a folder",
                409,
            )
        bucket_root = self._path(bucket)
        for folder in path.parents:
            if folder == bucket_root or bucket_root not in folder.parents:
                break
            if folder.is_file():
                prefix = folder.relative_to(bucket_root).as_posix()
                raise ServiceError(
                    "InvalidArgument",
                    f"s3://{bucket}/{key} cannot be stored: s3://{bucket}/{prefix} is an object, and the local "
                    "store keeps objects as files in folders, so a key cannot also be a folder",
                    409,
                )
        return path

    def _uploads(self) -> Path:
        return Path(self.store_root) / "multipart"

    # ---- buckets ----

    def list_buckets(self, params, context):
        root = Path(self.store_root) / "s3"
        buckets = []
        if root.is_dir():
            for entry in sorted(root.iterdir()):
                if entry.is_dir():
                    buckets.append({"Name": entry.name, "CreationDate": _modified(entry.stat())})
        return {"Buckets": buckets, "Owner": {"ID": "sagepipe"}}

    def create_bucket(self, params, context):
        self._path(params["Bucket"]).mkdir(parents=True, exist_ok=True)
        return {"Location": f"/{params['Bucket']}"}

    def head_bucket(self, params, context):
        self._path(params["Bucket"])
        return {"BucketRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}

    def delete_bucket(self, params, context):
        path = self._path(params["Bucket"])
        if any(True for _ in _s3_objects.iter_objects(self.store, params["Bucket"])):
            raise ServiceError("BucketNotEmpty", f"The bucket {params['Bucket']} is not empty", 409)
        if path.is_dir():
            shutil.rmtree(path)
        return _no_content()

    def get_bucket_location(self, params, context):
        self._path(params["Bucket"])
        return {"LocationConstraint": None}

    # ---- objects ----

    def put_object(self, params, context):
        bucket, key = params["Bucket"], params["Key"]
        folder_marker = key.endswith("/") and not _body_bytes(params.get("Body"))
        target = self._object_target(bucket, key, folder_marker)
        if folder_marker:
            target.mkdir(parents=True, exist_ok=True)
            return {"ETag": f'"{hashlib.md5(b"", usedforsecurity=False).hexdigest()}"'}
        _s3_objects.put_object(target, lambda tmp: _copy_body(params.get("Body"), tmp))
        return {"ETag": _etag(target, target.stat())}

    def _head(self, path: Path, stat: os.stat_result) -> Dict[str, Any]:
        size = 0 if path.is_dir() else stat.st_size
        return {
            "ContentLength": size,
            "ETag": _etag(path, stat) if size else f'"{hashlib.md5(b"", usedforsecurity=False).hexdigest()}"',
            "LastModified": _modified(stat),
            "ContentType": "binary/octet-stream",
            "AcceptRanges": "bytes",
            "Metadata": {},
        }

    def head_object(self, params, context):
        try:
            path, stat = self._object(params["Bucket"], params["Key"])
        except ServiceError as error:
            raise ServiceError("404", "Not Found", 404) from error
        response = self._head(path, stat)
        try:
            _check_preconditions(params, response["ETag"])
        except ServiceError as error:  # a HEAD response has no body: botocore sees the status only
            raise ServiceError(str(error.status), error.message, error.status) from error
        return response

    def get_object(self, params, context):
        from botocore.response import StreamingBody

        path, stat = self._object(params["Bucket"], params["Key"])
        response = self._head(path, stat)
        # s3transfer's ranged parts of one download name the ETag: a replaced object fails them.
        _check_preconditions(params, response["ETag"])
        size = response["ContentLength"]
        span = _byte_range(params.get("Range"), size) if size else None
        if path.is_dir():
            response["Body"] = StreamingBody(io.BytesIO(b""), 0)
            return response
        f = open(path, "rb")  # noqa: SIM115 - the StreamingBody owns and closes it
        if span is None:
            response["Body"] = StreamingBody(f, size)
            return response
        start, end = span
        f.seek(start)
        length = end - start + 1
        response.update(ContentLength=length, ContentRange=f"bytes {start}-{end}/{size}")
        response["Body"] = StreamingBody(_Slice(f, length), length)
        response["ResponseMetadata"] = {"HTTPStatusCode": 206}
        return response

    def delete_object(self, params, context):
        self._delete(params["Bucket"], params["Key"])
        return _no_content()

    def delete_objects(self, params, context):
        # As S3: one key that cannot be deleted is reported in Errors, the others are deleted.
        deleted, errors = [], []
        for item in params["Delete"]["Objects"]:
            try:
                self._delete(params["Bucket"], item["Key"])
            except ServiceError as error:
                errors.append({"Key": item["Key"], "Code": error.code, "Message": error.message})
            else:
                deleted.append({"Key": item["Key"]})
        response: Dict[str, Any] = {} if params["Delete"].get("Quiet") else {"Deleted": deleted}
        if errors:
            response["Errors"] = errors
        return response

    def _delete(self, bucket: str, key: str) -> None:
        path = self._path(bucket, key)
        if path.is_file() and not key.endswith("/"):
            _s3_objects.delete_object(path)
        elif path.is_dir() and key.endswith("/") and not any(path.iterdir()):
            path.rmdir()
        # S3 has no folders: remove the ones this deletion left empty, up to the bucket.
        bucket_root = self._path(bucket)
        parent = path.parent
        while parent != bucket_root and bucket_root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def _copy_source(self, source: Any) -> Tuple[Path, os.stat_result]:
        """The object a ``CopySource`` names (botocore sends it as ``bucket/url-quoted-key``)."""
        if isinstance(source, str):
            source = urllib.parse.unquote(source.split("?", 1)[0].lstrip("/"))
            source_bucket, _, source_key = source.partition("/")
        else:
            source_bucket, source_key = source["Bucket"], source["Key"]
        return self._object(source_bucket, source_key)

    def copy_object(self, params, context):
        source_path, _ = self._copy_source(params["CopySource"])
        key = params["Key"]
        marker = source_path.is_dir()  # a folder marker: an empty object
        target = self._object_target(params["Bucket"], key, folder_marker=marker and key.endswith("/"))
        if marker and key.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            _s3_objects.put_object(
                target, lambda tmp: tmp.write_bytes(b"") if marker else shutil.copyfile(source_path, tmp)
            )
        stat = target.stat()
        return {"CopyObjectResult": {"ETag": self._head(target, stat)["ETag"], "LastModified": _modified(stat)}}

    # ---- listing ----

    def list_objects_v2(self, params, context):
        start_after = params.get("StartAfter", "")
        token = params.get("ContinuationToken")
        if token:
            start_after = max(start_after, _decode_token(token))
        page = self._list(params, start_after)
        response = {
            "Name": params["Bucket"],
            "Prefix": params.get("Prefix", ""),
            "MaxKeys": params.get("MaxKeys", 1000),
            "KeyCount": len(page["Contents"]) + len(page["CommonPrefixes"]),
            "IsTruncated": page["IsTruncated"],
        }
        for field in ("Delimiter", "EncodingType", "ContinuationToken", "StartAfter"):
            if params.get(field) is not None:
                response[field] = params[field]
        if page["IsTruncated"]:
            response["NextContinuationToken"] = _encode_token(page["Last"])
        return _with_listing(response, page, params, ("Delimiter", "Prefix", "StartAfter"))

    def list_objects(self, params, context):
        page = self._list(params, params.get("Marker", ""))
        response = {
            "Name": params["Bucket"],
            "Prefix": params.get("Prefix", ""),
            "Marker": params.get("Marker", ""),
            "MaxKeys": params.get("MaxKeys", 1000),
            "IsTruncated": page["IsTruncated"],
        }
        for field in ("Delimiter", "EncodingType"):
            if params.get(field) is not None:
                response[field] = params[field]
        if page["IsTruncated"] and params.get("Delimiter"):
            response["NextMarker"] = page["Last"]
        return _with_listing(response, page, params, ("Delimiter", "Marker", "Prefix", "NextMarker"))

    def _list(self, params, start_after: str) -> Dict[str, Any]:
        self._path(params["Bucket"])  # refuses bucket names that leave the store's s3 area
        prefix = params.get("Prefix", "") or ""
        delimiter = params.get("Delimiter") or ""
        limit = params.get("MaxKeys", 1000)
        objects = sorted(_s3_objects.iter_objects(self.store, params["Bucket"], prefix))
        contents: List[Dict[str, Any]] = []
        prefixes: List[str] = []
        last, truncated = "", False
        for key, path in objects:
            if key <= start_after:
                continue
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    if prefixes and prefixes[-1] == common:
                        continue
                    if common <= start_after:  # a marker naming a common prefix skips all its keys
                        continue
                    if len(contents) + len(prefixes) >= limit:
                        truncated = True
                        break
                    prefixes.append(common)
                    last = common
                    continue
            if len(contents) + len(prefixes) >= limit:
                truncated = True
                break
            stat = path.stat()
            contents.append(
                {
                    "Key": key,
                    "LastModified": _modified(stat),
                    "ETag": _etag(path, stat),
                    "Size": stat.st_size,
                    "StorageClass": "STANDARD",
                }
            )
            last = key
        return {"Contents": contents, "CommonPrefixes": prefixes, "IsTruncated": truncated, "Last": last}

    # ---- multipart uploads ----

    def create_multipart_upload(self, params, context):
        self._object_target(params["Bucket"], params["Key"])
        upload_id = uuid.uuid4().hex
        (self._uploads() / upload_id).mkdir(parents=True)
        return {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}

    def _upload_dir(self, upload_id: str) -> Path:
        folder = self._uploads() / os.path.basename(upload_id)
        if not upload_id or not folder.is_dir():
            raise ServiceError("NoSuchUpload", f"The specified multipart upload does not exist: {upload_id}", 404)
        return folder

    def upload_part(self, params, context):
        folder = self._upload_dir(params["UploadId"])
        part = folder / f"{int(params['PartNumber']):05d}"
        tmp = folder / f".{part.name}.tmp"
        _copy_body(params.get("Body"), tmp)
        tmp.replace(part)
        return {"ETag": _etag(part, part.stat())}

    def upload_part_copy(self, params, context):
        # s3transfer's managed copy (client.copy, Bucket.copy) copies objects over 8 MiB this way.
        folder = self._upload_dir(params["UploadId"])
        source_path, stat = self._copy_source(params["CopySource"])
        size = 0 if source_path.is_dir() else stat.st_size  # a folder marker is empty
        span = _byte_range(params.get("CopySourceRange"), size) if size else None
        start, end = span if span else (0, size - 1)
        part = folder / f"{int(params['PartNumber']):05d}"
        tmp = folder / f".{part.name}.tmp"
        with open(tmp, "wb") as out:
            if size:
                with open(source_path, "rb") as source:
                    source.seek(start)
                    shutil.copyfileobj(_Slice(source, end - start + 1), out, 1 << 20)
        tmp.replace(part)
        stat = part.stat()
        return {"CopyPartResult": {"ETag": _etag(part, stat), "LastModified": _modified(stat)}}

    def complete_multipart_upload(self, params, context):
        folder = self._upload_dir(params["UploadId"])
        parts = sorted(p["PartNumber"] for p in params.get("MultipartUpload", {}).get("Parts", []))
        missing = [n for n in parts if not (folder / f"{n:05d}").is_file()]
        if missing:
            raise ServiceError("InvalidPart", f"parts {missing} of upload {params['UploadId']} were not uploaded", 400)
        target = self._object_target(params["Bucket"], params["Key"])

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as out:
                for number in parts:
                    with open(folder / f"{number:05d}", "rb") as part:
                        shutil.copyfileobj(part, out, 1 << 20)

        _s3_objects.put_object(target, write)
        shutil.rmtree(folder, ignore_errors=True)
        return {
            "Bucket": params["Bucket"],
            "Key": params["Key"],
            "ETag": _etag(target, target.stat()),
            "Location": f"s3://{params['Bucket']}/{params['Key']}",
        }

    def abort_multipart_upload(self, params, context):
        shutil.rmtree(self._upload_dir(params["UploadId"]), ignore_errors=True)
        return _no_content()


def _check_preconditions(params: Dict[str, Any], etag: str) -> None:
    """``IfMatch``/``IfNoneMatch`` of GetObject and HeadObject against the object's ETag."""
    if_match, if_none_match = params.get("IfMatch"), params.get("IfNoneMatch")
    if if_match is not None and if_match != "*" and if_match.strip('"') != etag.strip('"'):
        raise ServiceError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
    if if_none_match is not None and (if_none_match == "*" or if_none_match.strip('"') == etag.strip('"')):
        raise ServiceError("304", "Not Modified", 304)


def _with_listing(
    response: Dict[str, Any], page: Dict[str, Any], params: Dict[str, Any], encoded_fields: Tuple[str, ...]
) -> Dict[str, Any]:
    # With EncodingType=url (botocore sets it and decodes the answer) keys, and the fields that
    # hold keys, travel URL-encoded as S3 sends them; botocore decodes '+' as a space.
    encode = (lambda k: urllib.parse.quote(k, safe="/")) if params.get("EncodingType") == "url" else (lambda k: k)
    for field in encoded_fields:
        if response.get(field):
            response[field] = encode(response[field])
    if page["Contents"]:
        response["Contents"] = [dict(item, Key=encode(item["Key"])) for item in page["Contents"]]
    if page["CommonPrefixes"]:
        response["CommonPrefixes"] = [{"Prefix": encode(p)} for p in page["CommonPrefixes"]]
    return response


def _encode_token(key: str) -> str:
    import base64

    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: str) -> str:
    import base64

    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        raise ServiceError("InvalidArgument", "The continuation token provided is incorrect", 400) from None
