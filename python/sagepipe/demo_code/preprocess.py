"""Abalone preprocessing (the SageMaker Pipelines example's script): impute, scale and one-hot
encode, then split 70/15/15 into train/validation/test CSVs (label first, no header), plus the
test features alone as the batch-transform input."""

import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FEATURES = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight"]
LABEL = "rings"
BASE = "/opt/ml/processing"

if __name__ == "__main__":
    df = pd.read_csv(f"{BASE}/input/abalone.csv", header=None, names=FEATURES + [LABEL])
    print(f"read {len(df)} rows")
    numeric = FEATURES[1:]
    transformer = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"), OneHotEncoder(handle_unknown="ignore")
                ),
                ["sex"],
            ),
        ]
    )
    y = df.pop(LABEL)
    X = np.concatenate((y.to_numpy().reshape(-1, 1), transformer.fit_transform(df)), axis=1)
    np.random.default_rng(42).shuffle(X)
    train, validation, test = np.split(X, [int(0.7 * len(X)), int(0.85 * len(X))])
    for name, rows in [("train", train), ("validation", validation), ("test", test), ("batch", test[:, 1:])]:
        os.makedirs(f"{BASE}/{name}", exist_ok=True)
        pd.DataFrame(rows).to_csv(f"{BASE}/{name}/{name}.csv", header=False, index=False)
        print(f"{name}: {len(rows)} rows")
