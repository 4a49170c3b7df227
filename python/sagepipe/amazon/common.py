"""RecordIO-protobuf reading and writing (mirror of ``sagemaker.amazon.common``).

The built-in algorithms read ``application/x-recordio-protobuf``: a sequence of RecordIO
frames (the magic number ``0xced7230a`` and the payload length, both little-endian uint32, then
the payload padded with zeros to a multiple of 4 bytes), each payload one serialized
:class:`~sagepipe.amazon.record_pb2.Record`. numpy (and scipy, for sparse matrices) are
imported only when used.
"""

import struct

from sagepipe.amazon.record_pb2 import Record

__all__ = [
    "read_recordio",
    "read_records",
    "write_numpy_to_dense_tensor",
    "write_spmatrix_to_sparse_tensor",
]

_MAGIC = 0xCED7230A


def _write_recordio(f, data: bytes) -> None:
    """Write one RecordIO frame holding ``data`` to the binary file ``f``."""
    f.write(struct.pack("<II", _MAGIC, len(data)))
    f.write(data)
    f.write(b"\x00" * (-len(data) % 4))


def read_recordio(f):
    """Yield the payloads of the RecordIO frames of the binary file ``f``.

    Raises:
        ValueError: A frame does not start with the RecordIO magic number, or is truncated.
    """
    while True:
        header = f.read(8)
        if not header:
            return
        if len(header) < 8:
            raise ValueError("truncated RecordIO frame header")
        magic, length = struct.unpack("<II", header)
        if magic != _MAGIC:
            raise ValueError(f"not a RecordIO frame: magic number {magic:#010x}, expected {_MAGIC:#010x}")
        data = f.read(length)
        if len(data) != length:
            raise ValueError("truncated RecordIO frame")
        f.read(-length % 4)
        yield data


def read_records(file):
    """Read every :class:`~sagepipe.amazon.record_pb2.Record` of a RecordIO-protobuf file."""
    records = []
    for data in read_recordio(file):
        record = Record()
        record.ParseFromString(data)
        records.append(record)
    return records


def _resolve_type(dtype) -> str:
    """The tensor type the SDK writes a numpy dtype as (platform ``int`` -> Int32, as the SDK)."""
    import numpy as np

    if dtype == np.dtype(int):
        return "int32_tensor"
    if dtype == np.dtype(float):
        return "float64_tensor"
    if dtype == np.dtype("float32"):
        return "float32_tensor"
    raise ValueError(f"Unsupported dtype {dtype} on array")


def _check_shapes(array, labels):
    if len(array.shape) != 2:
        raise ValueError("Array must be a Matrix")
    if labels is not None:
        if len(labels.shape) != 1:
            raise ValueError("Labels must be a Vector")
        if labels.shape[0] not in array.shape:
            raise ValueError(f"Label shape {labels.shape} not compatible with array shape {array.shape}")


def write_numpy_to_dense_tensor(file, array, labels=None):
    """Write each row of the 2D numpy ``array`` as a dense Record (label from ``labels``).

    Args:
        file: A binary file object.
        array (numpy.ndarray): A matrix of int, float64 or float32 values.
        labels (numpy.ndarray): Optional vector, one label per row.
    """
    _check_shapes(array, labels)
    kind = _resolve_type(array.dtype)
    label_kind = _resolve_type(labels.dtype) if labels is not None else None
    record = Record()
    for index, vector in enumerate(array):
        record.Clear()
        getattr(record.features["values"], kind).values.extend(vector.tolist())
        if labels is not None:
            getattr(record.label["values"], label_kind).values.append(labels[index].item())
        _write_recordio(file, record.SerializeToString())


def write_spmatrix_to_sparse_tensor(file, array, labels=None):
    """Write each row of the scipy sparse matrix ``array`` as a sparse Record (keys and shape).

    Raises:
        TypeError: ``array`` is not a scipy sparse matrix.
    """
    import numpy as np
    import scipy.sparse

    if not scipy.sparse.issparse(array):
        raise TypeError("Array must be sparse")
    _check_shapes(array, labels)
    kind = _resolve_type(array.dtype)
    label_kind = _resolve_type(labels.dtype) if labels is not None else None
    csr = array.tocsr()
    n_rows, n_cols = csr.shape
    record = Record()
    for row_index in range(n_rows):
        record.Clear()
        row = csr.getrow(row_index)
        tensor = getattr(record.features["values"], kind)
        tensor.values.extend(row.data.tolist())
        tensor.keys.extend(row.indices.astype(np.uint64).tolist())
        if labels is not None:
            getattr(record.label["values"], label_kind).values.append(labels[row_index].item())
        tensor.shape.append(n_cols)
        _write_recordio(file, record.SerializeToString())
