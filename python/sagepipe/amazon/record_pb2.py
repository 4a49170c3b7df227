"""The Amazon ``Record`` message of the built-in algorithms' RecordIO-protobuf format.

Mirror of ``sagemaker.amazon.record_pb2`` without the ``protobuf`` package: the schema is fixed
and public (package ``aialgs.data``, see the SageMaker developer guide, "Common Data Formats for
Training"), so its proto2 wire format is encoded and decoded here by hand:

* ``Record``: ``features`` (1) and ``label`` (2), maps ``string -> Value``; ``uid`` (3),
  ``metadata`` (4), ``configuration`` (5), strings.
* ``Value``: one of ``float32_tensor`` (2), ``float64_tensor`` (3), ``int32_tensor`` (7),
  ``bytes`` (9).
* ``Float32Tensor`` / ``Float64Tensor`` / ``Int32Tensor``: packed ``values`` (1), ``keys`` (2,
  uint64) and ``shape`` (3, uint64); ``Bytes``: repeated ``value`` (1), ``content_type`` (2).

The classes behave like the generated ones for what users do with them: ``Record()``,
``record.features["values"].float32_tensor.values.extend(...)``, ``SerializeToString()``,
``ParseFromString(...)``, ``Clear()``, ``WhichOneof("value")``, ``==``.
"""

import struct
from collections import defaultdict

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_UINT64_MASK = (1 << 64) - 1


def _varint(number: int) -> bytes:
    number &= _UINT64_MASK  # negative int32 values are sign-extended to ten bytes, as protobuf does
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varint(buf: bytes, pos: int):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint in a RecordIO-protobuf record")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long in a RecordIO-protobuf record")


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(payload)) + payload


def _fields(buf: bytes):
    """Yield ``(field number, wire type, raw value)`` of a serialized message."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire_type == _LENGTH_DELIMITED:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
            if len(value) != length:
                raise ValueError("truncated field in a RecordIO-protobuf record")
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported wire type {wire_type} in a RecordIO-protobuf record")
        yield number, wire_type, value


def _unpack_varints(payload: bytes):
    values, pos = [], 0
    while pos < len(payload):
        value, pos = _read_varint(payload, pos)
        values.append(value)
    return values


def _to_int32(number: int) -> int:
    number &= 0xFFFFFFFF
    return number - (1 << 32) if number & 0x80000000 else number


class _Message:
    def __eq__(self, other):
        return type(self) is type(other) and self.SerializeToString() == other.SerializeToString()

    def __repr__(self):
        return f"{type(self).__name__}({self._describe()})"

    def ParseFromString(self, data: bytes) -> int:  # noqa: N802 (protobuf's method name)
        """Replace this message's content by the decoded ``data``; returns its length."""
        self.Clear()
        self.MergeFromString(data)
        return len(data)


class _Tensor(_Message):
    """A dense (no ``keys``) or sparse vector, optionally shaped."""

    _FORMAT = ""  # struct code of a packed value; "" for varint-encoded int32

    def __init__(self, values=(), keys=(), shape=()):
        self.values = list(values)
        self.keys = list(keys)
        self.shape = list(shape)

    def Clear(self):  # noqa: N802
        """Empty the tensor."""
        self.values, self.keys, self.shape = [], [], []

    def _pack_values(self) -> bytes:
        if self._FORMAT:
            return struct.pack(f"<{len(self.values)}{self._FORMAT}", *self.values)
        for value in self.values:
            if not -(1 << 31) <= int(value) < 1 << 31:
                raise ValueError(f"{value} does not fit an Int32Tensor value")
        return b"".join(_varint(int(v)) for v in self.values)

    def _unpack_values(self, wire_type: int, raw) -> list:
        if not self._FORMAT:
            numbers = _unpack_varints(raw) if wire_type == _LENGTH_DELIMITED else [raw]
            return [_to_int32(n) for n in numbers]
        size = struct.calcsize(self._FORMAT)
        return list(struct.unpack(f"<{len(raw) // size}{self._FORMAT}", raw[: len(raw) // size * size]))

    def SerializeToString(self) -> bytes:  # noqa: N802
        """The message's wire bytes."""
        out = b""
        if self.values:
            out += _field(1, self._pack_values())
        if self.keys:
            out += _field(2, b"".join(_varint(int(k)) for k in self.keys))
        if self.shape:
            out += _field(3, b"".join(_varint(int(s)) for s in self.shape))
        return out

    def MergeFromString(self, data: bytes):  # noqa: N802
        """Append the decoded fields of ``data``."""
        for number, wire_type, raw in _fields(data):
            if number == 1:
                self.values.extend(self._unpack_values(wire_type, raw))
            elif number in (2, 3):
                numbers = _unpack_varints(raw) if wire_type == _LENGTH_DELIMITED else [raw]
                (self.keys if number == 2 else self.shape).extend(numbers)

    def _describe(self):
        return f"values={self.values!r}, keys={self.keys!r}, shape={self.shape!r}"


class Float32Tensor(_Tensor):
    """A tensor of float32 values."""

    _FORMAT = "f"


class Float64Tensor(_Tensor):
    """A tensor of float64 values."""

    _FORMAT = "d"


class Int32Tensor(_Tensor):
    """A tensor of int32 values."""

    _FORMAT = ""


class Bytes(_Message):
    """Binary values (e.g. images) with an optional content type."""

    def __init__(self, value=(), content_type=None):
        self.value = list(value)
        self.content_type = content_type

    def Clear(self):  # noqa: N802
        """Empty the message."""
        self.value, self.content_type = [], None

    def SerializeToString(self) -> bytes:  # noqa: N802
        """The message's wire bytes."""
        out = b"".join(_field(1, bytes(v)) for v in self.value)
        if self.content_type is not None:
            out += _field(2, self.content_type.encode("utf-8"))
        return out

    def MergeFromString(self, data: bytes):  # noqa: N802
        """Append the decoded fields of ``data``."""
        for number, _, raw in _fields(data):
            if number == 1:
                self.value.append(bytes(raw))
            elif number == 2:
                self.content_type = bytes(raw).decode("utf-8")

    def _describe(self):
        return f"value={self.value!r}, content_type={self.content_type!r}"


# Value's oneof: attribute name -> (field number, message class)
_VALUE_KINDS = {
    "float32_tensor": (2, Float32Tensor),
    "float64_tensor": (3, Float64Tensor),
    "int32_tensor": (7, Int32Tensor),
    "bytes": (9, Bytes),
}


class Value(_Message):
    """One of a float32, float64 or int32 tensor, or bytes (the ``value`` oneof).

    Reading a member of an empty ``Value`` selects it (so ``.extend`` on it fills the value);
    reading another member than the selected one returns an empty, detached message.
    """

    def __init__(self):
        self._kind = None
        self._message = None

    def Clear(self):  # noqa: N802
        """Unset the oneof."""
        self._kind, self._message = None, None

    def WhichOneof(self, name):  # noqa: N802
        """The member set (``"float32_tensor"``, ...) or None; ``name`` must be ``"value"``."""
        if name != "value":
            raise ValueError(f"Value has no oneof {name!r}")
        return self._kind

    def _member(self, kind):
        if self._kind is None:
            self._kind, self._message = kind, _VALUE_KINDS[kind][1]()
        if self._kind == kind:
            return self._message
        return _VALUE_KINDS[kind][1]()

    def SerializeToString(self) -> bytes:  # noqa: N802
        """The message's wire bytes."""
        if self._kind is None:
            return b""
        return _field(_VALUE_KINDS[self._kind][0], self._message.SerializeToString())

    def MergeFromString(self, data: bytes):  # noqa: N802
        """Decode ``data`` into the oneof (the last member present wins, as in protobuf)."""
        for number, _, raw in _fields(data):
            for kind, (kind_number, cls) in _VALUE_KINDS.items():
                if number == kind_number:
                    if self._kind != kind:
                        self._kind, self._message = kind, cls()
                    self._message.MergeFromString(raw)

    def _describe(self):
        return f"{self._kind}={self._message!r}" if self._kind else ""

    # Last in the class body: ``bytes`` shadows the builtin from here on.
    float32_tensor = property(lambda self: self._member("float32_tensor"))
    float64_tensor = property(lambda self: self._member("float64_tensor"))
    int32_tensor = property(lambda self: self._member("int32_tensor"))
    bytes = property(lambda self: self._member("bytes"))


def _map_entries(number: int, mapping) -> bytes:
    return b"".join(
        _field(number, _field(1, key.encode("utf-8")) + _field(2, value.SerializeToString()))
        for key, value in mapping.items()
    )


def _merge_map_entry(mapping, raw: bytes):
    key, value = "", b""
    for number, _, field_value in _fields(raw):
        if number == 1:
            key = bytes(field_value).decode("utf-8")
        elif number == 2:
            value = field_value
    mapping[key].MergeFromString(value)


class Record(_Message):
    """A training or inference record: named feature and label values, optional metadata."""

    _STRINGS = {3: "uid", 4: "metadata", 5: "configuration"}

    def __init__(self):
        self.Clear()

    def Clear(self):  # noqa: N802
        """Empty the record."""
        self.features = defaultdict(Value)
        self.label = defaultdict(Value)
        self.uid = self.metadata = self.configuration = None

    def SerializeToString(self) -> bytes:  # noqa: N802
        """The message's wire bytes."""
        out = _map_entries(1, self.features) + _map_entries(2, self.label)
        for number, name in self._STRINGS.items():
            if getattr(self, name) is not None:
                out += _field(number, getattr(self, name).encode("utf-8"))
        return out

    def MergeFromString(self, data: bytes):  # noqa: N802
        """Merge the decoded fields of ``data`` into this record."""
        for number, _, raw in _fields(data):
            if number in (1, 2):
                _merge_map_entry(self.features if number == 1 else self.label, raw)
            elif number in self._STRINGS:
                setattr(self, self._STRINGS[number], bytes(raw).decode("utf-8"))

    def _describe(self):
        return f"features={dict(self.features)!r}, label={dict(self.label)!r}"
