"""The SageMaker XGBoost algorithm container (image_uris "xgboost" 0.90-1 .. 1.7-1), training
mode, on the ``xgboost`` Python package (``pip install sagepipe[xgboost]``).

Runs as a training job: reads ``hyperparameters.json`` and ``inputdataconfig.json`` from
``SM_INPUT_CONFIG_DIR``, the ``train`` (and optional ``validation``) channel from
``SM_CHANNEL_<NAME>``, logs each round as the container does (``[3]\\ttrain-rmse:..\\t
validation-rmse:..``) and saves the booster as ``xgboost-model`` in ``SM_MODEL_DIR``: pickled
for images before 1.3-1, in XGBoost's own format from 1.3-1 on, like the real container.

Data: CSV without header, label in the first column (``csv_weights=1``: weight in the second),
or LIBSVM (the container's default content type), or Parquet.
"""

import json
import os
import pickle
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

MODEL_FILE = "xgboost-model"

# Objective names the current xgboost package no longer accepts, as the container maps them.
RETIRED_OBJECTIVES = {"reg:linear": "reg:squarederror"}

# Hyperparameters the container interprets itself instead of passing them to the booster.
CONTAINER_PARAMETERS = {
    "num_round",
    "early_stopping_rounds",
    "csv_weights",
    "save_model_on_termination",
    "_kfold",
    "_nfold",
    "_tuning_objective_metric",
    "use_dask_gpu_training",
    "silent",
}


def _fail(message: str) -> None:
    """Report a client error the way the training toolkit does, then exit non-zero."""
    output_dir = os.environ.get("SM_OUTPUT_DIR")
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "failure"), "w") as f:
            f.write(message)
    print(message, file=sys.stderr)
    sys.exit(1)


def _number(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _image_version(image: str) -> Tuple[int, int]:
    m = re.search(r":(\d+)\.(\d+)", image)
    return (int(m.group(1)), int(m.group(2))) if m else (1, 7)


def _files(channel_dir: str) -> List[str]:
    out: List[str] = []
    for root, dirs, names in os.walk(channel_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
    return out


def _content_type(channel: str, input_config: Dict[str, Any]) -> str:
    ct = (input_config.get(channel) or {}).get("ContentType") or "libsvm"
    return ct.split(";")[0].strip().lower()


def _load(channel_dir: str, content_type: str, csv_weights: bool):
    import numpy as np
    import xgboost as xgb

    files = _files(channel_dir)
    if not files:
        _fail(f"ClientError: no data files found in channel directory {channel_dir}")
    if content_type in ("text/csv", "csv"):
        blocks = [np.loadtxt(f, delimiter=",", ndmin=2) for f in files if os.path.getsize(f) > 0]
        data = np.vstack(blocks)
        first_feature = 2 if csv_weights else 1
        weight = data[:, 1] if csv_weights else None
        return xgb.DMatrix(data[:, first_feature:], label=data[:, 0], weight=weight)
    if content_type in ("libsvm", "text/libsvm", "text/x-libsvm"):
        return _load_libsvm(files)
    if content_type in ("application/x-parquet", "parquet"):
        import pandas as pd

        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return xgb.DMatrix(frame.iloc[:, 1:].to_numpy(), label=frame.iloc[:, 0].to_numpy())
    _fail(f"ClientError: content type {content_type!r} is not supported by the local XGBoost algorithm")


def _load_libsvm(files: List[str]):
    import numpy as np
    import scipy.sparse as sp
    import xgboost as xgb

    labels: List[float] = []
    rows: List[int] = []
    cols: List[int] = []
    vals: List[float] = []
    for path in files:
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                label, *pairs = line.split()
                r = len(labels)
                labels.append(float(label.split(":")[0]))
                for pair in pairs:
                    k, v = pair.split(":", 1)
                    if k == "qid":
                        continue
                    rows.append(r)
                    cols.append(int(k))
                    vals.append(float(v))
    width = max(cols) + 1 if cols else 1
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(labels), width))
    return xgb.DMatrix(matrix, label=np.asarray(labels))


def _custom_metrics(names: List[str]) -> Optional[Callable]:
    """The container's own metrics (``mse``, ``r2``, ``accuracy``, ``f1``, ...) as one
    ``custom_metric`` function returning ``[(name, value), ...]``."""
    import numpy as np

    def binary(pred):
        return (pred > 0.5).astype(float) if pred.ndim == 1 else pred.argmax(axis=1).astype(float)

    def mse(pred, y):
        return float(np.mean((pred - y) ** 2))

    def r2(pred, y):
        total = float(np.sum((y - y.mean()) ** 2))
        return 1.0 - float(np.sum((y - pred) ** 2)) / total if total else 0.0

    def accuracy(pred, y):
        return float(np.mean(binary(pred) == y))

    def _counts(pred, y):
        p = binary(pred)
        tp = float(np.sum((p == 1) & (y == 1)))
        return tp, float(np.sum((p == 1) & (y == 0))), float(np.sum((p == 0) & (y == 1)))

    def precision(pred, y):
        tp, fp, _ = _counts(pred, y)
        return tp / (tp + fp) if tp + fp else 0.0

    def recall(pred, y):
        tp, _, fn = _counts(pred, y)
        return tp / (tp + fn) if tp + fn else 0.0

    def f1(pred, y):
        p, r = precision(pred, y), recall(pred, y)
        return 2 * p * r / (p + r) if p + r else 0.0

    known = {"mse": mse, "r2": r2, "accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}
    chosen = [(n, known[n]) for n in names if n in known]
    if not chosen:
        return None

    def metric(predt, dmatrix):
        y = dmatrix.get_label()
        return [(n, fn(predt, y)) for n, fn in chosen]

    return metric


CUSTOM_METRIC_NAMES = {"mse", "r2", "accuracy", "precision", "recall", "f1"}


def main() -> None:
    try:
        import xgboost as xgb
    except ImportError:
        _fail("ClientError: the local XGBoost algorithm needs the xgboost package: pip install 'sagepipe[xgboost]'")
    config_dir = os.environ["SM_INPUT_CONFIG_DIR"]
    with open(os.path.join(config_dir, "hyperparameters.json")) as f:
        hyperparameters: Dict[str, str] = json.load(f)
    with open(os.path.join(config_dir, "inputdataconfig.json")) as f:
        input_config: Dict[str, Any] = json.load(f)
    if "num_round" not in hyperparameters:
        _fail("ClientError: Missing required hyperparameter: num_round")
    num_round = int(float(hyperparameters["num_round"]))
    early_stopping = hyperparameters.get("early_stopping_rounds")
    csv_weights = str(hyperparameters.get("csv_weights", "0")) == "1"

    params: Dict[str, Any] = {k: _number(str(v)) for k, v in hyperparameters.items() if k not in CONTAINER_PARAMETERS}
    objective = str(params.get("objective", "reg:squarederror"))
    params["objective"] = RETIRED_OBJECTIVES.get(objective, objective)
    metrics = [m.strip() for m in str(params.pop("eval_metric", "")).split(",") if m.strip()]
    builtin_metrics = [m for m in metrics if m not in CUSTOM_METRIC_NAMES]
    if builtin_metrics:
        params["eval_metric"] = builtin_metrics
    elif metrics:
        params["disable_default_eval_metric"] = 1
    custom_metric = _custom_metrics(metrics)

    if "SM_CHANNEL_TRAIN" not in os.environ:
        _fail("ClientError: the XGBoost algorithm needs a 'train' channel")
    dtrain = _load(os.environ["SM_CHANNEL_TRAIN"], _content_type("train", input_config), csv_weights)
    evals = [(dtrain, "train")]
    if "SM_CHANNEL_VALIDATION" in os.environ:
        dval = _load(os.environ["SM_CHANNEL_VALIDATION"], _content_type("validation", input_config), csv_weights)
        evals.append((dval, "validation"))
    print(f"Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns", flush=True)

    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=num_round,
        evals=evals,
        custom_metric=custom_metric,
        early_stopping_rounds=int(early_stopping) if early_stopping else None,
        verbose_eval=True,
    )
    model_dir = os.environ["SM_MODEL_DIR"]
    os.makedirs(model_dir, exist_ok=True)
    path = os.path.join(model_dir, MODEL_FILE)
    if _image_version(os.environ.get("SAGEPIPE_IMAGE_URI", "")) < (1, 3):
        with open(path, "wb") as f:
            pickle.dump(booster, f)
    else:
        # The container writes XGBoost's own format under this extension-less name.
        raw = booster.save_raw(raw_format="ubj")
        with open(path, "wb") as f:
            f.write(raw)
    print(f"Saved the model to {path}", flush=True)


if __name__ == "__main__":
    main()
