"""docs/sagemaker-api-support.md lists exactly the service operations the local service answers."""

import re
from pathlib import Path

from sagepipe._service import SERVED

DOC = Path(__file__).resolve().parent.parent / "docs" / "sagemaker-api-support.md"
SECTIONS = {"sagemaker": "### SageMaker", "s3": "### S3", "sts": "### STS", "iam": "### IAM"}


def section(title: str) -> str:
    text = DOC.read_text().split(title, 1)[1]
    return re.split(r"\n##+ ", text, maxsplit=1)[0]


def documented_as_served(text: str) -> set:
    """Operations named in the first column of rows marked supported or partial."""
    names = set()
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1] in ("supported", "partial"):
            names |= set(re.findall(r"`([A-Z][A-Za-z0-9]+)`", cells[0]))
    return names


def test_every_served_operation_is_documented_and_nothing_else():
    assert set(SECTIONS) == set(SERVED)
    for service, title in SECTIONS.items():
        served = set(SERVED[service].operations())
        assert served, service
        assert documented_as_served(section(title)) == served, service
