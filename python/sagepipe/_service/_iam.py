"""IAM, locally: the role checks SDK v3 runs before it builds a job or upserts a pipeline.

Local jobs run as the local user and sagepipe enforces no IAM policy, so every role name is a
role that the SageMaker service may assume, and every action a role is simulated for is allowed.
Answering that truthfully lets the SDK's role validation (``GetRole`` for the trust policy,
``SimulatePrincipalPolicy`` for the permissions) pass without an AWS account.
"""

import json
from datetime import datetime, timezone
from typing import Any, Dict
from urllib.parse import quote

from sagepipe._service._errors import LocalService, ServiceError
from sagepipe._service._sts import ACCOUNT

# The service principals that run jobs here: SageMaker's (jobs, pipelines, models) and the
# EventBridge Scheduler's (pipeline schedules), the ones the SDK checks a role trusts.
TRUSTED_SERVICES = ("sagemaker.amazonaws.com", "scheduler.amazonaws.com")
_CREATED = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LocalIam(LocalService):
    service = "IAM"
    OPERATIONS = ("GetRole", "SimulatePrincipalPolicy")

    def get_role(self, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        name = params.get("RoleName") or ""
        if not name:
            raise ServiceError("ValidationError", "RoleName is required")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": list(TRUSTED_SERVICES)}, "Action": "sts:AssumeRole"}
            ],
        }
        return {
            "Role": {
                "Path": "/",
                "RoleName": name,
                "RoleId": "SAGEPIPELOCALROLE",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                "CreateDate": _CREATED,
                # IAM returns the trust policy URL-encoded.
                "AssumeRolePolicyDocument": quote(json.dumps(trust)),
            }
        }

    def simulate_principal_policy(self, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        resources = params.get("ResourceArns") or ["*"]
        results = [
            {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": "allowed",
                "MatchedStatements": [],
                "MissingContextValues": [],
            }
            for action in params.get("ActionNames") or []
            for resource in resources
        ]
        return {"EvaluationResults": results, "IsTruncated": False}
