"""Tests that drive the real SageMaker SDK (v2 or v3) against sagepipe.

They need a real ``sagemaker`` package, which ``pip install -e '.[test]'`` does not install:
tests/test_real_sdk_lines.py runs this directory in one virtualenv per SDK line (the ``sdk-v2`` and
``sdk-v3`` extras). Without a real SDK the directory is not collected at all, so a run without it
reports neither failures nor skips for it.
"""

from sagepipe.compat import real_sdk_installed

# real_sdk_installed() looks past the mirror's import alias: only the real package counts.
if not real_sdk_installed():
    collect_ignore_glob = ["*"]
else:
    from importlib.metadata import version

    # test_v2_*.py and test_v3_*.py are each one SDK line's scripts; the rest runs with both.
    _line = version("sagemaker").split(".")[0]
    collect_ignore_glob = [f"test_v{major}_*.py" for major in ("2", "3") if major != _line]


import pytest  # noqa: E402


@pytest.fixture
def moto_env():
    """moto's server on a loopback address, and the environment that reaches it as AWS (for
    ``sagepipe deploy`` in a subprocess)."""
    server = pytest.importorskip("moto.server").ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        }
    finally:
        server.stop()
