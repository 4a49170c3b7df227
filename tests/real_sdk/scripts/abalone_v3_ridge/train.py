"""Script-mode training for abalone_v3.py's ModelTrainer: a ridge regression on the train channel
(label first, no header), scored on the validation channel; the model goes to SM_MODEL_DIR."""

import argparse
import os
import pickle

import pandas as pd
from sklearn.linear_model import Ridge


def read(channel):
    directory = os.environ[f"SM_CHANNEL_{channel.upper()}"]
    return pd.concat(pd.read_csv(os.path.join(directory, name), header=None) for name in sorted(os.listdir(directory)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, default=1.0)
    args = parser.parse_args()
    train, validation = read("train"), read("validation")
    model = Ridge(alpha=args.alpha).fit(train.iloc[:, 1:], train.iloc[:, 0])
    print(f"validation r2: {model.score(validation.iloc[:, 1:], validation.iloc[:, 0])}")
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb") as f:
        pickle.dump(model, f)
