"""Built-in Amazon algorithms (sagepipe.amazon): record_set writes RecordIO-protobuf into the store,
fit() under a PipelineSession builds the SDK's TrainingStep definition, and running one locally
fails before anything runs unless a runner is registered for the algorithm's image."""

import io
import json
import struct
import tarfile
import textwrap
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

import sagepipe  # noqa: E402
from sagepipe import local_runners  # noqa: E402
from sagepipe.amazon.amazon_estimator import RecordSet  # noqa: E402
from sagepipe.amazon.common import read_records, write_numpy_to_dense_tensor  # noqa: E402
from sagepipe.exceptions import UnsupportedStepError  # noqa: E402
from sagepipe.workflow.function_step import step  # noqa: E402
from sagepipe.workflow.pipeline import Pipeline  # noqa: E402
from sagepipe.workflow.steps import TrainingStep  # noqa: E402

ROLE = "arn:aws:iam::111111111111:role/Training"
BUCKET = "my-bucket"
KMEANS_IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"


@pytest.fixture
def algo_session(tmp_path, monkeypatch):
    from sagepipe.workflow.pipeline_context import PipelineSession

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    return PipelineSession(store=tmp_path / "store", default_bucket=BUCKET)


# --- An independent reader of the format, written from the public spec -------------------------
# RecordIO frame: uint32 LE magic 0xced7230a, uint32 LE length, payload, zero padding to 4 bytes.
# Payload: protobuf Record {map<string, Value> features = 1; map<string, Value> label = 2}, a map
# entry {string key = 1; Value value = 2}, Value {Float32Tensor float32_tensor = 2;
# Float64Tensor float64_tensor = 3; Int32Tensor int32_tensor = 7}, a tensor {packed values = 1}.


def _varint(buf, pos):
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _length_delimited_fields(buf):
    pos, fields = 0, []
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        assert key & 7 == 2, "every field of these records is length-delimited"
        length, pos = _varint(buf, pos)
        fields.append((key >> 3, buf[pos : pos + length]))
        pos += length
    return fields


def _decode_value(value):
    ((kind, tensor),) = _length_delimited_fields(value)
    ((number, packed),) = _length_delimited_fields(tensor)
    assert number == 1
    if kind == 2:
        return "float32", list(struct.unpack(f"<{len(packed) // 4}f", packed))
    if kind == 3:
        return "float64", list(struct.unpack(f"<{len(packed) // 8}d", packed))
    assert kind == 7
    numbers, pos = [], 0
    while pos < len(packed):
        n, pos = _varint(packed, pos)
        numbers.append(n - (1 << 64) if n >= 1 << 63 else n)
    return "int32", numbers


def _spec_decode(data: bytes):
    """[(features['values'], label['values'] or None)] of a RecordIO-protobuf file."""
    records, pos = [], 0
    while pos < len(data):
        magic, length = struct.unpack_from("<II", data, pos)
        assert magic == 0xCED7230A
        payload = data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (-length % 4)
        maps = {1: {}, 2: {}}
        for number, entry in _length_delimited_fields(payload):
            fields = dict(_length_delimited_fields(entry))
            maps[number][fields[1].decode()] = _decode_value(fields[2])
        records.append((maps[1]["values"], maps[2].get("values")))
    return records


# --- record_set --------------------------------------------------------------------------------


def test_record_set_writes_shards_and_manifest_into_the_store(algo_session):
    kmeans = sagepipe.KMeans(
        role=ROLE, instance_count=2, instance_type="ml.m5.xlarge", k=2, sagemaker_session=algo_session
    )
    train = np.arange(15, dtype="float32").reshape(5, 3)
    labels = np.array([0.5, 1.5, 2.5, 3.5, 4.5])
    records = kmeans.record_set(train, labels=labels)

    assert isinstance(records, RecordSet)
    assert (records.num_records, records.feature_dim, records.channel) == (5, 3, "train")
    assert records.s3_data_type == "ManifestFile" and records.distribution == "ShardedByS3Key"
    prefix = f"s3://{BUCKET}/sagemaker-record-sets/KMeans-"
    assert records.s3_data.startswith(prefix) and records.s3_data.endswith("/.amazon.manifest")

    store = algo_session.store
    manifest = json.loads(Path(store.uri_to_path(records.s3_data)).read_text())
    shard_prefix = records.s3_data[: -len(".amazon.manifest")]
    assert manifest == [{"prefix": shard_prefix}, "matrix_0.pbr", "matrix_1.pbr"]

    decoded = []
    for name in manifest[1:]:
        data = Path(store.uri_to_path(shard_prefix + name)).read_bytes()
        decoded += _spec_decode(data)
        # sagepipe's own reader agrees with the spec reader
        ours = [
            (r.features["values"].float32_tensor.values, r.label["values"].float64_tensor.values)
            for r in read_records(io.BytesIO(data))
        ]
        assert ours == [(f[1], lab[1]) for f, lab in _spec_decode(data)]
    # two instances: shards of 2 and 3 rows, every row and label intact, float32 features
    assert [f for f, _ in decoded] == [("float32", row) for row in train.tolist()]
    assert [lab for _, lab in decoded] == [("float64", [v]) for v in labels.tolist()]


def test_dense_tensor_types_follow_the_array_dtype():
    buf = io.BytesIO()
    write_numpy_to_dense_tensor(buf, np.array([[-3, 7], [2**31 - 1, 0]]), labels=np.array([1, -1]))
    assert _spec_decode(buf.getvalue()) == [
        (("int32", [-3, 7]), ("int32", [1])),
        (("int32", [2**31 - 1, 0]), ("int32", [-1])),
    ]
    with pytest.raises(ValueError, match="Unsupported dtype"):
        write_numpy_to_dense_tensor(io.BytesIO(), np.array([["a"]]))
    with pytest.raises(ValueError, match="Array must be a Matrix"):
        write_numpy_to_dense_tensor(io.BytesIO(), np.array([1.0, 2.0]))


# --- definitions, as SDK 2.257.6 builds them under a PipelineSession ---------------------------

_COMMON_ARGUMENTS = {
    "OutputDataConfig": {"S3OutputPath": "s3://my-bucket/out"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceCount": 2, "InstanceType": "ml.m5.xlarge"},
    "RoleArn": ROLE,
    "InputDataConfig": [
        {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "ManifestFile",
                    "S3Uri": "s3://my-bucket/records/.amazon.manifest",
                    "S3DataDistributionType": "ShardedByS3Key",
                }
            },
            "ChannelName": "train",
        }
    ],
    "DebugHookConfig": {"S3OutputPath": "s3://my-bucket/out", "CollectionConfigurations": []},
    "ProfilerConfig": {"S3OutputPath": "s3://my-bucket/out", "DisableProfiler": False},
}


def _training_step_definition_for(session, estimator, records, **fit_kwargs):
    train = TrainingStep(name="Train", step_args=estimator.fit(records, **fit_kwargs))
    return json.loads(Pipeline(name="P", steps=[train], sagemaker_session=session).definition())["Steps"][0]


def _training_step_definition(session, estimator, **fit_kwargs):
    records = RecordSet("s3://my-bucket/records/.amazon.manifest", num_records=100, feature_dim=4)
    return _training_step_definition_for(session, estimator, records, **fit_kwargs)


def test_kmeans_training_step_definition_is_the_sdks(algo_session):
    kmeans = sagepipe.KMeans(
        role=ROLE,
        instance_count=2,
        instance_type="ml.m5.xlarge",
        k=3,
        eval_metrics=["msd"],
        output_path="s3://my-bucket/out",
        sagemaker_session=algo_session,
    )
    assert _training_step_definition(algo_session, kmeans) == {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": KMEANS_IMAGE},
            **_COMMON_ARGUMENTS,
            # no mini_batch_size: fit() passes None, so k-means uses the algorithm's default
            "HyperParameters": {"force_dense": "True", "k": "3", "eval_metrics": '["msd"]', "feature_dim": "4"},
        },
    }


def test_linear_learner_training_step_definition_is_the_sdks(algo_session):
    linear = sagepipe.LinearLearner(
        role=ROLE,
        instance_count=2,
        instance_type="ml.m5.xlarge",
        predictor_type="regressor",
        epochs=5,
        output_path="s3://my-bucket/out",
        sagemaker_session=algo_session,
    )
    expected_hyperparameters = {"predictor_type": "regressor", "epochs": "5", "feature_dim": "4"}
    assert _training_step_definition(algo_session, linear, mini_batch_size=10) == {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingInputMode": "File",
                "TrainingImage": "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:1",
            },
            **_COMMON_ARGUMENTS,
            "HyperParameters": {**expected_hyperparameters, "mini_batch_size": "10"},
        },
    }
    # without mini_batch_size: the default (1000) capped at the records per instance (100 / 2)
    step = _training_step_definition(algo_session, linear)
    assert step["Arguments"]["HyperParameters"]["mini_batch_size"] == "50"


def test_hyperparameters_are_typed_and_validated(algo_session):
    kmeans = sagepipe.KMeans(role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=algo_session)
    kmeans.max_iterations = "7"
    assert kmeans.max_iterations == 7 and kmeans.hyperparameters()["local_lloyd_max_iter"] == "7"
    with pytest.raises(ValueError, match="Invalid hyperparameter value 1 for k. Expecting: An integer greater-than 1"):
        kmeans.k = 1
    with pytest.raises(ValueError, match="'num_classes' should be set"):
        sagepipe.LinearLearner(
            role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", predictor_type="multiclass_classifier"
        )
    rcf = sagepipe.RandomCutForest(
        role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=algo_session
    )
    with pytest.raises(ValueError, match="fixed mini_batch_size of 1000"):
        _training_step_definition(algo_session, rcf, mini_batch_size=10)
    lda = sagepipe.LDA(role=ROLE, instance_type="ml.m5.xlarge", num_topics=2, sagemaker_session=algo_session)
    with pytest.raises(ValueError, match="mini_batch_size must be set"):
        _training_step_definition(algo_session, lda)


def test_algorithm_models_serve_the_algorithm_image(algo_session):
    pca = sagepipe.PCA(
        role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", num_components=2, sagemaker_session=algo_session
    )
    _training_step_definition(algo_session, pca)  # the step's arguments are built with the definition
    model = pca.create_model()
    assert isinstance(model, sagepipe.PCAModel)
    assert model.image_uri == "174872318107.dkr.ecr.us-west-2.amazonaws.com/pca:1"
    assert model.model_data.startswith("s3://my-bucket/pca-") and model.model_data.endswith("/output/model.tar.gz")
    lda_model = sagepipe.LDAModel("s3://b/model.tar.gz", role=ROLE, sagemaker_session=algo_session)
    assert lda_model.image_uri == "266724342769.dkr.ecr.us-west-2.amazonaws.com/lda:1"


# --- running -----------------------------------------------------------------------------------

RUNNER = """
import json, os
from sagepipe.amazon.common import read_records

hps = json.load(open("/opt/ml/input/config/hyperparameters.json"))
channel = os.environ["SM_CHANNEL_TRAIN"]
names = sorted(os.listdir(channel))
rows = []
for name in names:
    with open(os.path.join(channel, name), "rb") as f:
        rows += [r.features["values"].float64_tensor.values for r in read_records(f)]
centre = [sum(column) / len(rows) for column in zip(*rows)]
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    model = {"files": names, "rows": len(rows), "k": hps["k"], "feature_dim": hps["feature_dim"]}
    json.dump({**model, "centre": centre}, f)
print("k-means stand-in trained on", len(rows), "records")
"""


def _kmeans_pipeline(session, marker: Path):
    kmeans = sagepipe.KMeans(role=ROLE, instance_count=2, instance_type="ml.m5.xlarge", k=2, sagemaker_session=session)
    records = kmeans.record_set(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]))
    train = TrainingStep(name="Cluster", step_args=kmeans.fit(records, mini_batch_size=2))

    @step(name="Independent")
    def independent():
        marker.write_text("ran")

    pipeline = Pipeline(name="kmeans-local", steps=[train, independent()], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    return pipeline


def test_builtin_algorithm_fails_before_anything_runs_without_a_runner(algo_session, tmp_path):
    marker = tmp_path / "marker"
    pipeline = _kmeans_pipeline(algo_session, marker)
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    message = str(info.value)
    assert "'Cluster'" in message and "built-in algorithm 'kmeans'" in message and KMEANS_IMAGE in message
    assert 'register_image(r"/kmeans:"' in message
    assert not marker.exists()  # the other step did not run either


def test_builtin_algorithm_runs_with_a_registered_runner(algo_session, tmp_path):
    marker = tmp_path / "marker"
    pipeline = _kmeans_pipeline(algo_session, marker)
    runner = tmp_path / "kmeans_runner.py"
    runner.write_text(textwrap.dedent(RUNNER))
    local_runners.register_image(r"/kmeans:", command=["python3", str(runner)])
    try:
        execution = pipeline.start()
        execution.wait()
    finally:
        local_runners.unregister_image(r"/kmeans:")
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert steps["Cluster"]["StepStatus"] == "Succeeded", steps["Cluster"].get("FailureReason")
    assert marker.read_text() == "ran"
    job = json.loads(algo_session.store.load_steps(execution.arn))
    props = next(s for s in job if s["StepName"] == "Cluster")["Properties"]
    with tarfile.open(algo_session.store.uri_to_path(props["ModelArtifacts"]["S3ModelArtifacts"])) as tar:
        model = json.loads(tar.extractfile("model.json").read())
    # the manifest's shards (and only they) were staged into the channel
    assert model == {
        "files": ["matrix_0.pbr", "matrix_1.pbr"],
        "rows": 4,
        "k": "2",
        "feature_dim": "2",
        "centre": [3.0, 4.0],
    }


def test_fit_takes_one_record_set_per_channel(algo_session):
    pca = sagepipe.PCA(
        role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", num_components=1, sagemaker_session=algo_session
    )
    train = RecordSet("s3://my-bucket/train/", num_records=30, feature_dim=7, s3_data_type="S3Prefix")
    test = RecordSet("s3://my-bucket/test/", num_records=10, feature_dim=7, s3_data_type="S3Prefix", channel="test")
    arguments = _training_step_definition_for(algo_session, pca, [test, train])["Arguments"]
    assert [(c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in arguments["InputDataConfig"]] == [
        ("test", "s3://my-bucket/test/"),
        ("train", "s3://my-bucket/train/"),
    ]
    # feature_dim from the train channel; PCA's default mini-batch (500) capped at the train records
    assert arguments["HyperParameters"] == {"num_components": "1", "feature_dim": "7", "mini_batch_size": "30"}
    with pytest.raises(ValueError, match="Duplicate channels not allowed"):
        _training_step_definition_for(algo_session, pca, [train, train])
    with pytest.raises(ValueError, match="Must provide train channel"):
        _training_step_definition_for(algo_session, pca, [test])


def test_a_manifest_with_an_empty_key_fails_the_step(algo_session, tmp_path):
    """Regression: an empty key passed the containment check and staged the whole prefix."""
    pipeline = _kmeans_pipeline(algo_session, tmp_path / "marker")
    definition = json.loads(pipeline.definition())
    cluster = next(s for s in definition["Steps"] if s["Name"] == "Cluster")
    manifest_uri = cluster["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    manifest = Path(algo_session.store.uri_to_path(manifest_uri))
    entries = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(entries[:1] + [""]))
    runner = tmp_path / "kmeans_runner.py"
    runner.write_text(textwrap.dedent(RUNNER))
    local_runners.register_image(r"/kmeans:", command=["python3", str(runner)])
    try:
        execution = pipeline.start()
        execution.wait()
    finally:
        local_runners.unregister_image(r"/kmeans:")
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert steps["Cluster"]["StepStatus"] == "Failed"
    assert 'lists the key ""' in steps["Cluster"]["FailureReason"]
