"""W6: the processing script every job runs, written for the SageMaker container contract:
it reads /opt/ml/processing/input/data.txt and writes /opt/ml/processing/output/result.txt.
BENCH_OPT_ML relocates /opt/ml for the plain-subprocess baseline (which has no sandbox)."""

import os

root = os.environ.get("BENCH_OPT_ML", "/opt/ml")
with open(os.path.join(root, "processing", "input", "data.txt")) as f:
    value = int(f.read())
os.makedirs(os.path.join(root, "processing", "output"), exist_ok=True)
with open(os.path.join(root, "processing", "output", "result.txt"), "w") as f:
    f.write(str(value + 1))
