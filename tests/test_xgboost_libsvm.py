"""The built-in XGBoost algorithm reads libsvm when a training channel or a transform input names
no content type (the container's documented default), as the public Abalone walkthrough relies
on: train on libsvm, create the model, batch-transform libsvm, all without ``content_type``."""

import csv
import json
from pathlib import Path

import pytest
from sagepipe import image_uris
from sagepipe.estimator import Estimator
from sagepipe.inputs import TrainingInput
from sagepipe.model import Model
from sagepipe.transformer import Transformer
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.steps import TrainingStep, TransformStep

pytest.importorskip("xgboost")
pytest.importorskip("scipy")

ABALONE = Path(__file__).resolve().parent.parent / "python" / "sagepipe" / "data" / "abalone.csv"
ROLE = "arn:aws:iam::000000000000:role/r"
SEX = {"M": 1, "F": 2, "I": 3}


def _libsvm_lines(rows):
    """Rings as the label; sex and the seven measurements as features 1..8 (the LIBSVM
    repository's abalone layout)."""
    return [f"{row[8]} 1:{SEX[row[0]]} " + " ".join(f"{i + 2}:{v}" for i, v in enumerate(row[1:8])) for row in rows]


def _put(session, key: str, lines) -> str:
    path = Path(session.store.uri_to_path(f"s3://data/{key}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return f"s3://data/{key}".rsplit("/", 1)[0]


def test_train_and_transform_libsvm_without_content_type(session):
    with open(ABALONE) as f:
        rows = list(csv.reader(f))
    train_uri = _put(session, "train/abalone.train", _libsvm_lines(rows[:3000]))
    test_rows = rows[3000:3200]
    batch_uri = _put(session, "batch/abalone.test", _libsvm_lines(test_rows))

    image = image_uris.retrieve("xgboost", "us-east-1", "1.7-1")
    estimator = Estimator(
        image_uri=image,
        role=ROLE,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://data/model",
        sagemaker_session=session,
        hyperparameters={"objective": "reg:squarederror", "num_round": "30", "max_depth": "4"},
    )
    train = TrainingStep(name="Train", step_args=estimator.fit({"train": TrainingInput(train_uri)}))
    model = Model(
        image_uri=image,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=session,
    )
    create = ModelStep(name="Model", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://data/predictions",
        sagemaker_session=session,
    )
    transform = TransformStep(name="Score", step_args=transformer.transform(data=batch_uri))
    pipeline = Pipeline(name="libsvm", steps=[train, create, transform], sagemaker_session=session)

    steps = {s["Name"]: s["Arguments"] for s in json.loads(pipeline.definition())["Steps"]}
    assert "ContentType" not in steps["Train"]["InputDataConfig"][0]
    assert "ContentType" not in steps["Score"]["TransformInput"]

    execution = pipeline.start()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.list_steps()
    assert "Train matrix has 3000 rows and 9 columns" in execution.logs("Train")

    predictions = [
        float(x) for x in Path(session.store.uri_to_path("s3://data/predictions/abalone.test.out")).read_text().split()
    ]
    assert len(predictions) == len(test_rows)
    rings = [float(r[8]) for r in test_rows]
    mean_abs_error = sum(abs(p - r) for p, r in zip(predictions, rings)) / len(rings)
    baseline = sum(abs(sum(rings) / len(rings) - r) for r in rings) / len(rings)
    assert mean_abs_error < baseline  # a model was learnt from the libsvm features, not parsed as CSV
