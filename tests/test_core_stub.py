"""The stub of the compiled module (``python/sagepipe/_core.pyi``) says what the binding returns:
``mypy.stubtest`` (``make typecheck``) checks names and signatures, these check the return types it
cannot see. The path-valued members were once declared ``str``."""

from pathlib import Path

from sagepipe._core import Store


def test_the_path_valued_store_members_return_paths(tmp_path):
    store = Store(tmp_path / "store")
    assert isinstance(store.root, Path)
    assert store.root == tmp_path / "store"
    artifact = store.uri_to_path("s3://bucket/key/model.tar.gz")
    assert isinstance(artifact, Path)
    assert artifact.is_relative_to(store.root) and artifact.name == "model.tar.gz"
    arn = "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p/execution/abc123"
    log = store.log_path(arn, "Train")
    assert isinstance(log, Path)
    assert log.is_relative_to(store.root)


def test_a_store_takes_a_str_or_a_path(tmp_path):
    assert Store(str(tmp_path)).root == Store(tmp_path).root


def test_the_local_account_has_one_value():
    """The session spells the local account out (importing the SDK's modules does not load the
    engine); it is the core's."""
    from sagepipe import _core, session
    from sagepipe._service import _sts

    assert session._LOCAL_ACCOUNT == _core.LOCAL_ACCOUNT == _sts.ACCOUNT
    assert session.DEFAULT_BUCKET == f"sagemaker-local-{_core.LOCAL_ACCOUNT}"
