"""Abalone evaluation (the SageMaker Pipelines example's script): load the trained XGBoost
model, score the test set and write the MSE report read by the pipeline's condition."""

import json
import pathlib
import pickle
import tarfile

import numpy as np
import pandas as pd
import xgboost
from sklearn.metrics import mean_squared_error

if __name__ == "__main__":
    with tarfile.open("/opt/ml/processing/model/model.tar.gz") as tar:
        tar.extractall(path=".")
    with open("xgboost-model", "rb") as f:
        model = pickle.load(f)
    df = pd.read_csv("/opt/ml/processing/test/test.csv", header=None)
    y_test = df.iloc[:, 0].to_numpy()
    df.drop(df.columns[0], axis=1, inplace=True)
    predictions = model.predict(xgboost.DMatrix(df.values))
    mse = mean_squared_error(y_test, predictions)
    report = {"regression_metrics": {"mse": {"value": mse, "standard_deviation": float(np.std(y_test - predictions))}}}
    print(f"test mse: {mse}")
    out = pathlib.Path("/opt/ml/processing/evaluation")
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report))
