"""The local model registry (sagepipe extension): the models CreateModel steps record and the
model package groups and versions RegisterModel steps create, read and updated with the
responses of the boto3 SageMaker client (``ListModelPackageGroups``, ``ListModelPackages``,
``DescribeModelPackage``, ``UpdateModelPackage``, ``DescribeModel``).

Versions count from 1 per group; a new version's approval status is ``PendingManualApproval``
unless the step set one; ARNs look like
``arn:aws:sagemaker:local:000000000000:model-package/<group>/<version>``.

Example::

    from sagepipe import model_registry

    packages = model_registry.list_model_packages("AbaloneModels")["ModelPackageSummaryList"]
    model_registry.update_model_package(packages[-1]["ModelPackageArn"], model_approval_status="Approved")
"""

import json
from typing import Any, Dict, List, Optional

from sagepipe._responses import RESPONSE_METADATA, to_datetime

_TIME_KEYS = ("CreationTime", "LastModifiedTime")


def _store(sagemaker_session=None):
    from sagepipe.session import session_or_default

    sagemaker_session = session_or_default(sagemaker_session)
    return sagemaker_session.store


def _times(record: Dict[str, Any]) -> Dict[str, Any]:
    for key in _TIME_KEYS:
        value = record.get(key)
        if isinstance(value, (int, float)):
            record[key] = to_datetime(value)
    return record


def _response(body: Dict[str, Any]) -> Dict[str, Any]:
    body["ResponseMetadata"] = dict(RESPONSE_METADATA)
    return body


def list_model_package_groups(sagemaker_session=None, sort_order: str = "Ascending") -> Dict[str, Any]:
    """``ListModelPackageGroups``: every group, by creation time.

    Args:
        sagemaker_session: The session whose store to read (default: a new ``Session()``).
        sort_order: ``Ascending`` (oldest first) or ``Descending``.
    """
    groups: List[Dict[str, Any]] = [
        _times(g) for g in json.loads(_store(sagemaker_session).list_model_package_groups())
    ]
    if sort_order == "Descending":
        groups.reverse()
    return _response({"ModelPackageGroupSummaryList": groups})


def list_model_packages(
    model_package_group_name: str,
    sagemaker_session=None,
    model_approval_status: Optional[str] = None,
    sort_order: str = "Ascending",
) -> Dict[str, Any]:
    """``ListModelPackages`` of one group, by version.

    Args:
        model_package_group_name: The group.
        sagemaker_session: The session whose store to read (default: a new ``Session()``).
        model_approval_status: Only packages with this status, if given.
        sort_order: ``Ascending`` (version 1 first) or ``Descending``.

    Raises:
        sagepipe.exceptions.ResourceNotFoundError: if the group does not exist.
    """
    packages = [_times(p) for p in json.loads(_store(sagemaker_session).list_model_packages(model_package_group_name))]
    if model_approval_status is not None:
        packages = [p for p in packages if p.get("ModelApprovalStatus") == model_approval_status]
    if sort_order == "Descending":
        packages.reverse()
    return _response({"ModelPackageSummaryList": packages})


def describe_model_package(model_package_name: str, sagemaker_session=None) -> Dict[str, Any]:
    """``DescribeModelPackage`` by ARN (or ``<group>/<version>``).

    Raises:
        sagepipe.exceptions.ResourceNotFoundError: if there is no such package.
    """
    return _response(_times(json.loads(_store(sagemaker_session).describe_model_package(model_package_name))))


def update_model_package(
    model_package_arn: str,
    model_approval_status: Optional[str] = None,
    approval_description: Optional[str] = None,
    customer_metadata_properties: Optional[Dict[str, str]] = None,
    customer_metadata_properties_to_remove: Optional[List[str]] = None,
    sagemaker_session=None,
) -> Dict[str, Any]:
    """``UpdateModelPackage``: approval status and description, customer metadata.

    Raises:
        sagepipe.exceptions.ValidationError: for an approval status the service does not know.
        sagepipe.exceptions.ResourceNotFoundError: if there is no such package.
    """
    update = {
        "ModelApprovalStatus": model_approval_status,
        "ApprovalDescription": approval_description,
        "CustomerMetadataProperties": customer_metadata_properties,
        "CustomerMetadataPropertiesToRemove": customer_metadata_properties_to_remove,
    }
    update = {k: v for k, v in update.items() if v is not None}
    rec = json.loads(_store(sagemaker_session).update_model_package(model_package_arn, json.dumps(update)))
    return _response({"ModelPackageArn": rec["ModelPackageArn"]})


def describe_model(model_name: str, sagemaker_session=None) -> Dict[str, Any]:
    """``DescribeModel`` of a model a CreateModel step recorded.

    Raises:
        sagepipe.exceptions.ResourceNotFoundError: if there is no such model.
    """
    rec = json.loads(_store(sagemaker_session).describe_model(model_name))
    if isinstance(rec.get("CreationTime"), str):
        from datetime import datetime

        rec["CreationTime"] = datetime.fromisoformat(rec["CreationTime"].replace("Z", "+00:00"))
    return _response(rec)
