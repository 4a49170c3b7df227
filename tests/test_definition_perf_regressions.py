"""What the definition-building caches must never change (issue 7): a function's code signature
still follows its source, payloads still follow their arguments and globals, and a rebuilt
definition is the same text. Real pipelines on temporary stores; no timing asserts.
"""

import gc
import hashlib
import importlib
import json
import os
import shutil
import sys
import types
import weakref

import pytest
from sagepipe.workflow.callback_step import CallbackOutput, CallbackStep
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.function_step import _CompilationScope, step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.lambda_step import LambdaOutput, LambdaStep
from sagepipe.workflow.parameters import ParameterInteger, ParameterString
from sagepipe.workflow.pipeline import Pipeline, _map_callback_outputs, _map_lambda_outputs, interpolate
from sagepipe.workflow.steps import Step
from sagepipe.workflow.utilities import list_to_request

MODULE = """
import perf_helpers


def work(x):
    return perf_helpers.double(x) + 1
"""

HELPERS = """
def double(x):
    return 2 * x
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project module (and a helper module it imports) that the tests edit on disk."""
    src = tmp_path / "proj"
    src.mkdir()
    (src / "perf_steps.py").write_text(MODULE)
    (src / "perf_helpers.py").write_text(HELPERS)
    monkeypatch.syspath_prepend(str(src))
    for name in ("perf_steps", "perf_helpers"):
        sys.modules.pop(name, None)
    yield src, importlib.import_module("perf_steps")
    for name in ("perf_steps", "perf_helpers"):
        sys.modules.pop(name, None)


def function_step_args(definition: str, name: str) -> dict:
    """``{--flag: value}`` of a function step's container arguments."""
    (found,) = [s for s in json.loads(definition)["Steps"] if s["Name"] == name]
    args = found["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    return {args[i]: args[i + 1] for i in range(0, len(args) - 1) if str(args[i]).startswith("--")}


def payload_file(pipeline: Pipeline, name: str, definition: str) -> str:
    args = function_step_args(definition, name)
    uri = f"{args['--s3_base_uri']}/{name}/{args['--func_step_s3_dir']}/function.pkl"
    return str(pipeline.sagemaker_session.store.uri_to_path(uri))


def signature(pipeline: Pipeline, name: str) -> dict:
    definition = pipeline.definition()
    with open(payload_file(pipeline, name, definition) + ".sagepipe-code.json") as f:
        return json.load(f)


def edit(path, text):
    """Rewrite a file so its stat changes even within one clock tick (same size included)."""
    before = os.stat(path)
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))


def test_function_edited_on_disk_changes_the_signature_in_the_same_process(project, session):
    src, module = project
    pipeline = Pipeline(name="sig", steps=[step(name="Work")(module.work)(1)], sagemaker_session=session)
    first = signature(pipeline, "Work")
    assert signature(pipeline, "Work") == first  # cached: same answer
    # Same size, different code: only the file version tells them apart.
    edit(src / "perf_steps.py", MODULE.replace("+ 1", "- 1"))
    changed = signature(pipeline, "Work")
    assert changed["normalized_sha256"] != first["normalized_sha256"]
    # A comment-only edit is not a change (the AST is hashed, also from the cache).
    edit(src / "perf_steps.py", MODULE.replace("+ 1", "- 1") + "\n# a note\n")
    assert signature(pipeline, "Work")["normalized_sha256"] == changed["normalized_sha256"]


def test_helper_module_edited_on_disk_changes_the_signature(project, session):
    src, module = project
    pipeline = Pipeline(name="sig", steps=[step(name="Work")(module.work)(1)], sagemaker_session=session)
    first = signature(pipeline, "Work")
    assert any(key.startswith(os.path.relpath(str(src / "perf_helpers.py"))) for key in first["files"])
    edit(src / "perf_helpers.py", HELPERS.replace("2 * x", "3 * x"))
    assert signature(pipeline, "Work")["normalized_sha256"] != first["normalized_sha256"]


def test_signature_keys_follow_the_working_directory(project, session, tmp_path, monkeypatch):
    """Sidecar keys are paths relative to the current directory, as before the cache."""
    src, module = project
    pipeline = Pipeline(name="sig", steps=[step(name="Work")(module.work)(1)], sagemaker_session=session)
    monkeypatch.chdir(src)
    assert "perf_steps.py:work" in signature(pipeline, "Work")["files"]
    monkeypatch.chdir(tmp_path)
    assert os.path.join("proj", "perf_steps.py:work") in signature(pipeline, "Work")["files"]


def test_second_definition_is_identical_and_matches_a_fresh_build(in_process_session):
    def build():
        first = step(name="First")(_length)([1, 2])
        second = step(name="Second")(_add)(first, 3)
        return Pipeline(name="same", steps=[second], sagemaker_session=in_process_session)

    pipeline = build()
    text = pipeline.definition()
    assert pipeline.definition() == text
    assert build().definition() == text


def test_argument_mutated_in_place_changes_the_payload(in_process_session):
    values = [1, 2]
    pipeline = Pipeline(name="mut", steps=[step(name="Sum")(sum)(values)], sagemaker_session=in_process_session)
    before = function_step_args(pipeline.definition(), "Sum")["--func_step_s3_dir"]
    values.append(3)
    after = function_step_args(pipeline.definition(), "Sum")["--func_step_s3_dir"]
    assert after != before
    execution = pipeline.start()
    execution.wait()
    assert execution.result("Sum") == 6


def test_global_of_a_function_pickled_by_value_changes_the_payload(in_process_session):
    namespace = {"__name__": "not_an_importable_module", "SCALE": 2}
    exec("def scaled(x):\n    return SCALE * x\n", namespace)  # noqa: S102 - a function cloudpickle copies
    scaled = types.FunctionType(namespace["scaled"].__code__, namespace, "scaled")
    pipeline = Pipeline(name="glob", steps=[step(name="Scaled")(scaled)(5)], sagemaker_session=in_process_session)
    before = function_step_args(pipeline.definition(), "Scaled")["--func_step_s3_dir"]
    namespace["SCALE"] = 3
    after = function_step_args(pipeline.definition(), "Scaled")["--func_step_s3_dir"]
    assert after != before
    execution = pipeline.start()
    execution.wait()
    assert execution.result("Scaled") == 15


def test_steps_sharing_a_function_pickled_by_value_each_run_their_own_arguments(in_process_session):
    """One compilation pickles a function once for all the steps that call it; each step's
    payload still carries its own arguments, and a global changed before the next compilation
    still shows."""
    namespace = {"__name__": "not_an_importable_module", "OFFSET": 100}
    exec("def shifted(x):\n    return OFFSET + x\n", namespace)  # noqa: S102 - a function cloudpickle copies
    shifted = types.FunctionType(namespace["shifted"].__code__, namespace, "shifted")
    first = step(name="First")(shifted)(1)
    second = step(name="Second")(shifted)(first)
    third = step(name="Third")(shifted)(2)
    pipeline = Pipeline(name="shared", steps=[second, third], sagemaker_session=in_process_session)
    execution = pipeline.start()
    execution.wait()
    assert [execution.result(n) for n in ("First", "Second", "Third")] == [101, 201, 102]
    namespace["OFFSET"] = 10
    execution = pipeline.start()
    execution.wait()
    assert [execution.result(n) for n in ("First", "Second", "Third")] == [11, 21, 12]


def test_payload_of_an_earlier_release_still_loads(tmp_path):
    """Payloads written before functions were pickled on their own hold the function itself."""
    import cloudpickle
    from sagepipe.workflow._function_payload import load_payload

    path = tmp_path / "function.pkl"
    path.write_bytes(cloudpickle.dumps({"func": len, "args": ("abc",), "kwargs": {}}))
    payload = load_payload(str(path))
    assert payload["func"](*payload["args"]) == 3


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1, "a", None, True, 2.5, b"x"), {}),
        (([1, {"q": (2, [3])}],), {"flag": False}),
    ],
)
def test_plain_arguments_pickle_to_the_bytes_cloudpickle_writes(tmp_path, args, kwargs):
    """Plain arguments take the standard pickler; payload digests and argument hashes (cache
    keys) must be what cloudpickle gave, or every cache and payload of an earlier release misses."""
    import cloudpickle
    from sagepipe.workflow._function_payload import PAYLOAD_FILE, _arguments_hash, write_payload
    from sagepipe.workflow.parameters import ParameterInteger

    args = (*args, ParameterInteger(name="Count"))  # a placeholder among them
    digest, refs = write_payload(str(tmp_path), len, args, kwargs)
    with open(tmp_path / digest / PAYLOAD_FILE, "rb") as f:
        data = f.read()
    payload = cloudpickle.loads(data)
    assert cloudpickle.dumps(payload) == data
    arguments = (payload["args"], payload["kwargs"])
    assert _arguments_hash(payload, True) == hashlib.sha256(cloudpickle.dumps(arguments)).hexdigest()
    assert refs == [("Parameters.Count", {"Get": "Parameters.Count"})]


def test_payload_deleted_between_definitions_is_written_again(in_process_session):
    pipeline = Pipeline(name="gone", steps=[step(name="Len")(len)("abc")], sagemaker_session=in_process_session)
    path = payload_file(pipeline, "Len", pipeline.definition())
    shutil.rmtree(os.path.dirname(path))
    assert payload_file(pipeline, "Len", pipeline.definition()) == path
    assert os.path.exists(path) and os.path.exists(path + ".sagepipe-code.json")
    execution = pipeline.start()
    execution.wait()
    assert execution.result("Len") == 3


def test_sidecar_rewritten_by_another_process_is_put_back(in_process_session):
    """Regression: the payload memo skipped the sidecar once this process had written it, so a
    sidecar another process rewrote (same pickle, other code) stayed wrong for good."""
    pipeline = Pipeline(name="memo", steps=[step(name="Len")(len)("abc")], sagemaker_session=in_process_session)
    sidecar = payload_file(pipeline, "Len", pipeline.definition()) + ".sagepipe-code.json"
    with open(sidecar) as f:
        ours = f.read()
    tmp = sidecar + ".other"
    with open(tmp, "w") as f:
        f.write(json.dumps({"files": {"elsewhere.py:len": "0" * 64}, "normalized_sha256": "0" * 64}))
    os.replace(tmp, sidecar)  # as write_atomic in another process does
    pipeline.definition()
    with open(sidecar) as f:
        assert f.read() == ours


def test_edit_that_restores_the_mtime_changes_the_signature(project, session):
    """Regression: the source-hash cache trusted mtime/size/inode; ``cp -p`` or ``touch -d``
    restore the mtime of a same-size edit, and only the ctime shows it."""
    src, module = project
    pipeline = Pipeline(name="sig", steps=[step(name="Work")(module.work)(1)], sagemaker_session=session)
    first = signature(pipeline, "Work")
    before = os.stat(src / "perf_steps.py")
    (src / "perf_steps.py").write_text(MODULE.replace("+ 1", "- 1"))
    os.utime(src / "perf_steps.py", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert signature(pipeline, "Work")["normalized_sha256"] != first["normalized_sha256"]


def test_a_finished_compilation_keeps_nothing_of_the_pipeline_alive(in_process_session):
    """Regression: the compilation scope stayed the process-wide current one after the build,
    holding the last pipeline's functions (and what their closures hold) and session."""

    class Held:
        pass

    def compile_one():
        held = Held()

        def use():
            return held is not None

        pipeline = Pipeline(name="alive", steps=[step(name="Use")(use)()], sagemaker_session=in_process_session)
        pipeline.definition()
        return weakref.ref(held)

    ref = compile_one()
    assert _CompilationScope._current is None
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("name", ["Plain_step-1", "with.dot", "a b", ".."])
def test_payload_root_is_where_the_store_puts_the_step(session, name):
    scope = _CompilationScope("token")
    base = "s3://bucket/prefix/pipe"
    try:
        expected = str(session.store.uri_to_path(f"{base}/{name}"))
    except Exception as error:  # the store refuses it: the fast path must refuse it too
        with pytest.raises(type(error)):
            scope.payload_root(session, base, name)
        return
    assert scope.payload_root(session, base, name) == expected


def test_definition_encodes_pipeline_variables_as_interpolate_did(session):
    """The one-pass encoder writes what ``interpolate`` + ``json.dumps`` wrote."""
    count = ParameterInteger(name="Count", default_value=2)
    bucket = ParameterString(name="Bucket", default_value="b")
    status = CallbackOutput(output_name="status")
    total = LambdaOutput(output_name="total")
    callback = CallbackStep(
        name="Wait",
        sqs_queue_url="https://sqs.us-east-1.amazonaws.com/000000000000/q",
        inputs={"n": count, "where": Join(on="/", values=["s3:/", bucket, ExecutionVariables.PIPELINE_EXECUTION_ID])},
        outputs=[status],
    )
    counting = LambdaStep(
        name="Count",
        lambda_func=_lambda(),
        inputs={"status": status, "nested": [{"n": count}, (bucket,)]},
        outputs=[total],
    )
    report = LambdaStep(name="Report", lambda_func=_lambda(), inputs={"total": total, "status": status})
    pipeline = Pipeline(
        name="vars", parameters=[count, bucket], steps=[callback, counting, report], sagemaker_session=session
    )
    compiled = pipeline._compile_steps()
    expected = json.dumps(
        {
            "Version": pipeline._version,
            "Metadata": pipeline._metadata,
            "Parameters": list_to_request(pipeline.parameters),
            "PipelineExperimentConfig": interpolate(pipeline.pipeline_experiment_config.to_request(), {}, {}),
            "Steps": interpolate(
                list_to_request(compiled), _map_callback_outputs(pipeline.steps), _map_lambda_outputs(pipeline.steps)
            ),
        }
    )
    assert pipeline.definition() == expected


def test_definition_still_refuses_what_json_cannot_hold(session):
    lambda_step = LambdaStep(name="L", lambda_func=_lambda(), inputs={"bad": {1, 2}})
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        Pipeline(name="bad", steps=[lambda_step], sagemaker_session=session).definition()


def test_pipeline_variables_are_found_in_document_order_in_dicts_and_lists_only():
    a, b, c, d = (ParameterString(name=n) for n in "abcd")
    args = {"x": [a, {"y": b, "z": [1, "s", None, 2.5, True]}], "t": (d,), "w": c, "n": {}}
    assert Step._find_pipeline_variables_in_step_arguments(args) == [a, b, c]
    assert Step._find_pipeline_variables_in_step_arguments([[a], b]) == [a, b]
    assert Step._find_pipeline_variables_in_step_arguments("text") == []


def _length(items):
    return len(items)


def _add(a, b):
    return a + b


def _lambda():
    from sagepipe.lambda_helper import Lambda

    return Lambda(function_arn="arn:aws:lambda:us-east-1:000000000000:function:noop")


SHAPES = '''
import functools


def plain(x):
    return x + 1


@functools.lru_cache(
    maxsize=None,
)
def decorated(x):
    """Multi-line decorator above."""
    return x * 2


async def coroutine():
    return 1


def outer():
    def inner(y):
        return y - 1

    class Local:
        def method(self):
            return inner(1)

    return inner, Local


@functools.total_ordering
class Shape:
    """A decorated class with a nested one."""

    def __lt__(self, other):
        return False

    class Nested:
        def deep(self):
            return 3


if True:
    def conditional():
        return "if-branch"
else:
    def conditional():
        return "else-branch"

try:
    def guarded():
        return "try"
except ImportError:  # pragma: no cover
    pass

square = lambda v: v * v  # noqa: E731


def renamed():
    return "found by its code's own name"


renamed.__name__ = "shown_as"


class Twice:
    pass


class Twice:  # noqa: F811 - the same qualified name twice: ambiguous in one parse
    value = 2
'''


def test_one_parse_per_file_gives_the_hash_inspect_getsource_gave(tmp_path, monkeypatch):
    """Signing reads definitions from one parse of their file, not ``inspect.getsource`` (which
    tokenizes the file per object); the hashes must be the ones the sources give, or every
    cache of an earlier release misses. Lambdas and ambiguous names fall back to ``inspect``."""
    import inspect
    import textwrap

    from sagepipe._code_hash import normalized_file_hash
    from sagepipe.workflow import _code_signature

    matched = sys.version_info >= (3, 10)  # a definition under `match` (3.10 syntax)
    match_shape = "\nmatch 1:\n    case 1:\n        def matched():\n            return 'match'\n"
    (tmp_path / "shapes_mod.py").write_text(SHAPES + (match_shape if matched else ""))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("shapes_mod", None)
    mod = importlib.import_module("shapes_mod")
    inner, local = mod.outer()
    objects = [
        mod.plain,
        inspect.unwrap(mod.decorated),
        mod.coroutine,
        mod.outer,
        inner,
        local,
        local.method,
        mod.Shape,
        mod.Shape.Nested,
        mod.Shape.Nested.deep,
        mod.conditional,
        mod.guarded,
        mod.square,
        mod.renamed,
        mod.Twice,
    ] + ([mod.matched] if matched else [])
    path = str(tmp_path / "shapes_mod.py")
    version = _code_signature.file_version(path)
    one_parse = {o.__qualname__ for o in objects if _code_signature._definition_hash(path, version, o)}
    assert one_parse == {o.__qualname__ for o in objects} - {"<lambda>", "Twice"}
    for obj in objects:
        expected = normalized_file_hash("source.py", textwrap.dedent(inspect.getsource(obj)).encode())
        assert _code_signature._source_hash(obj) == (path, expected), obj.__qualname__
    sys.modules.pop("shapes_mod", None)


def test_signing_keeps_the_parses_of_a_few_files_only(tmp_path, monkeypatch):
    """An AST costs ~2 KB per source line: signing functions from many project files must not
    keep every file's tree for the life of the process, and a file read again hashes the same."""
    from sagepipe.workflow import _code_signature

    count = _code_signature._FILES_KEPT + 3
    for i in range(count):
        (tmp_path / f"many_{i}.py").write_text(f"def work_{i}(x):\n    return x + {i}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = [importlib.import_module(f"many_{i}") for i in range(count)]
    hashes = []
    for i, mod in enumerate(modules):
        path = str(tmp_path / f"many_{i}.py")
        hashes.append(
            _code_signature._definition_hash(path, _code_signature.file_version(path), getattr(mod, f"work_{i}"))
        )
    assert None not in hashes
    assert len(_code_signature._file_definitions) <= _code_signature._FILES_KEPT
    assert str(tmp_path / "many_0.py") not in _code_signature._file_definitions  # the oldest went first
    first = str(tmp_path / "many_0.py")
    assert _code_signature._definition_hash(first, _code_signature.file_version(first), modules[0].work_0) == hashes[0]
    for i in range(count):
        sys.modules.pop(f"many_{i}", None)
