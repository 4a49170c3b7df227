"""Batch transform for the models sagepipe can serve locally, run as a transform job.

The engine passes the job as JSON in ``SAGEPIPE_TRANSFORM``: ``mode`` (``xgboost`` for the
built-in XGBoost algorithm's models, ``script`` for script-mode models), the model, code, input
and output directories, ``content_type``, ``split_type`` (``Line`` or ``None``), ``accept``,
``assemble_with``, ``batch_strategy``, ``compression_type`` and ``join_source`` (``Input``:
each CSV input line followed by its prediction). Without a content type, XGBoost models read
libsvm (the container's default) and script-mode models CSV. Each input file becomes
``<file>.out`` in the output directory, as the service writes.

Script mode follows the SageMaker inference toolkits: the ``SAGEMAKER_PROGRAM`` module may
define ``model_fn(model_dir)`` (required), ``input_fn(input_data, content_type)``,
``predict_fn(data, model)`` and ``output_fn(prediction, accept)``; missing ones default to CSV /
JSON / NPY decoding, ``model.predict`` and CSV / JSON encoding. CSV and JSON requests reach
``input_fn`` as text, other content types as bytes.
"""

import gzip
import importlib
import io
import json
import os
import pickle
import sys
from typing import Any, Callable, List, Optional, Tuple

CSV = "text/csv"
LIBSVM = "text/libsvm"
JSON = "application/json"
NPY = "application/x-npy"
TEXT_TYPES = {CSV, JSON, "text/plain"}


def _base_type(content_type: Optional[str]) -> str:
    return (content_type or CSV).split(";")[0].strip().lower()


def decode(body: Any, content_type: str):
    """The toolkits' default input decoding into a numpy array."""
    import numpy as np

    ct = _base_type(content_type)
    if ct == CSV:
        text = body if isinstance(body, str) else body.decode()
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    if ct == JSON:
        return np.asarray(json.loads(body))
    if ct == NPY:
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise ValueError(f"content type {content_type!r} has no default decoder; define input_fn")


def encode(prediction: Any, accept: Optional[str]) -> str:
    """The default output encoding: CSV lines (one per record) or JSON."""
    import numpy as np

    ct = _base_type(accept)
    array = np.asarray(prediction)
    if ct == JSON:
        return json.dumps(array.tolist())
    if array.ndim <= 1:
        return "\n".join(repr(float(v)) if isinstance(v, (float, np.floating)) else str(v) for v in array.ravel())
    return "\n".join(",".join(str(v) for v in row) for row in array.tolist())


def _xgboost_handler(model_dir: str) -> Callable[[Any, str, Optional[str]], Any]:
    import xgboost as xgb

    path = os.path.join(model_dir, "xgboost-model")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        booster = pickle.loads(raw)
    except Exception:  # noqa: BLE001 - not a pickle: XGBoost's own format (images 1.3-1 on)
        booster = xgb.Booster()
        booster.load_model(bytearray(raw))

    def handle(body, content_type, accept):
        ct = _base_type(content_type)
        if ct in ("libsvm", "text/libsvm", "text/x-libsvm"):
            from sagepipe._algorithms.xgboost_train import _load_libsvm

            tmp = os.path.join(os.getcwd(), "request.libsvm")
            with open(tmp, "w") as f:
                f.write(body if isinstance(body, str) else body.decode())
            matrix = _load_libsvm([tmp])
        else:
            matrix = xgb.DMatrix(decode(body, content_type))
        return encode(booster.predict(matrix), accept)

    return handle


def _script_handler(code_dir: str, program: str, model_dir: str) -> Callable[[Any, str, Optional[str]], Any]:
    sys.path.insert(0, code_dir)
    module_name = program[:-3] if program.endswith(".py") else program
    module = importlib.import_module(module_name)
    if not hasattr(module, "model_fn"):
        raise SystemExit(f"{program} defines no model_fn(model_dir), which batch transform needs to load the model")
    model = module.model_fn(model_dir)
    input_fn = getattr(module, "input_fn", decode)
    predict_fn = getattr(module, "predict_fn", lambda data, m: m.predict(data))
    output_fn = getattr(module, "output_fn", encode)

    def handle(body, content_type, accept):
        return output_fn(predict_fn(input_fn(body, content_type), model), accept)

    return handle


def _body_text(response: Any) -> bytes:
    if isinstance(response, tuple):
        response = response[0]
    if isinstance(response, (list,)) and response and isinstance(response[0], (str, bytes)):
        response = "".join(r if isinstance(r, str) else r.decode() for r in response)
    if isinstance(response, str):
        return response.encode()
    if isinstance(response, (bytes, bytearray)):
        return bytes(response)
    return encode(response, CSV).encode()


def _join_input(request: bytes, response: bytes, content_type: str, accept: Optional[str]) -> bytes:
    """``JoinSource: Input`` for CSV: each input line followed by its output, comma-separated."""
    if _base_type(content_type) != CSV or _base_type(accept) != CSV:
        raise SystemExit("JoinSource Input is supported locally for text/csv input and output only")
    inputs = [line for line in request.splitlines() if line.strip()]
    results = [line for line in response.splitlines() if line.strip()]
    if len(inputs) != len(results):
        raise SystemExit(f"JoinSource Input: {len(inputs)} input records but {len(results)} output records")
    return b"\n".join(i + b"," + r for i, r in zip(inputs, results))


def _requests(data: bytes, split_type: str, batch_strategy: str) -> List[bytes]:
    if split_type == "None":
        return [data]
    if split_type != "Line":
        raise SystemExit(f"SplitType {split_type!r} is not supported locally (Line or None)")
    records = [line for line in data.splitlines() if line.strip()]
    if batch_strategy == "SingleRecord":
        return records
    return [b"\n".join(records)] if records else []


def _input_files(root: str) -> List[Tuple[str, str]]:
    out = []
    for base, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            full = os.path.join(base, n)
            out.append((full, os.path.relpath(full, root)))
    return out


def main() -> None:
    cfg = json.loads(os.environ["SAGEPIPE_TRANSFORM"])
    if cfg["mode"] == "xgboost":
        handle = _xgboost_handler(cfg["model_dir"])
    else:
        handle = _script_handler(cfg["code_dir"], cfg["program"], cfg["model_dir"])
    # A transform input without ContentType: the built-in XGBoost container reads libsvm (its
    # documented default), the inference toolkits of script-mode models CSV.
    content_type = cfg.get("content_type") or (LIBSVM if cfg["mode"] == "xgboost" else CSV)
    accept = cfg.get("accept") or content_type
    line_assembly = cfg.get("assemble_with") == "Line"
    for path, rel in _input_files(cfg["input_dir"]):
        with open(path, "rb") as f:
            data = f.read()
        if cfg.get("compression_type") == "Gzip":
            data = gzip.decompress(data)
        outputs = []
        for request in _requests(data, cfg.get("split_type") or "None", cfg.get("batch_strategy") or "MultiRecord"):
            body: Any = request.decode() if _base_type(content_type) in TEXT_TYPES else request
            out = _body_text(handle(body, content_type, accept))
            if cfg.get("join_source") == "Input":
                out = _join_input(request, out, content_type, accept)
            if line_assembly and not out.endswith(b"\n"):
                out += b"\n"
            outputs.append(out)
        dest = os.path.join(cfg["output_dir"], rel + ".out")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(b"".join(outputs))
        print(f"transformed {rel}: {len(outputs)} request(s)", flush=True)


if __name__ == "__main__":
    main()
