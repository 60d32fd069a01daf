"""docs/openapi.json is the document the gateway serves (regenerate: python scripts/export_openapi.py)."""

from __future__ import annotations

import json
from pathlib import Path

from telcochain.gateway.app import openapi_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_the_served_one() -> None:
    assert json.loads(DOC.read_text()) == openapi_document(), (
        "docs/openapi.json is out of date: run `python scripts/export_openapi.py`"
    )


def test_every_operation_documents_tmf_errors_and_bearer_auth() -> None:
    doc = openapi_document()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, methods in doc["paths"].items():
        if not path.startswith(("/serviceOrdering", "/resourceInventory", "/serviceInventory", "/customerBill")):
            continue
        for method, operation in methods.items():
            assert {"400", "401", "404"} <= operation["responses"].keys(), (method, path)
            assert "422" not in operation["responses"], (method, path)
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
