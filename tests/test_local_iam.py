"""The local IAM service: the role checks SageMaker SDK v3 makes (GetRole's trust policy,
SimulatePrincipalPolicy's verdicts) answered by botocore's own IAM client, with no account."""

import pytest

botocore_session = pytest.importorskip("botocore.session")
from botocore.exceptions import ClientError  # noqa: E402
from sagepipe import _service  # noqa: E402


@pytest.fixture
def iam(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    _service.route(["iam", "sts"], store=str(tmp_path / "store"))
    try:
        yield botocore_session.get_session().create_client("iam", region_name="us-east-1")
    finally:
        _service.unroute()


def test_any_role_exists_and_trusts_the_sagemaker_service(iam):
    role = iam.get_role(RoleName="SageMakerPipelines")["Role"]
    assert role["RoleName"] == "SageMakerPipelines"
    assert role["Arn"].endswith(":role/SageMakerPipelines")
    # The account is the local caller's, as STS says.
    sts = botocore_session.get_session().create_client("sts", region_name="us-east-1")
    assert role["Arn"].split(":")[4] == sts.get_caller_identity()["Account"]
    # IAM sends the trust policy URL-encoded; botocore's IAM client decodes it.
    trust = role["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
    assert "sagemaker.amazonaws.com" in statement["Principal"]["Service"]


def test_every_simulated_action_is_allowed_through_the_paginator(iam):
    pages = list(
        iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn="arn:aws:iam::123456789012:role/SageMakerPipelines",
            ActionNames=["s3:PutObject", "ecr:GetAuthorizationToken"],
            ResourceArns=["arn:aws:s3:::bucket/a", "arn:aws:s3:::bucket/b"],
        )
    )
    results = [r for page in pages for r in page["EvaluationResults"]]
    assert {(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in results} == {
        (action, resource, "allowed")
        for action in ("s3:PutObject", "ecr:GetAuthorizationToken")
        for resource in ("arn:aws:s3:::bucket/a", "arn:aws:s3:::bucket/b")
    }
    assert not pages[-1]["IsTruncated"]


def test_an_iam_operation_not_served_names_itself(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    assert raised.value.response["Error"]["Code"] == "NotServedLocally"
    assert "IAM operation CreateRole" in str(raised.value)
