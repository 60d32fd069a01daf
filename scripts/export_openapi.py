"""Write the gateway's OpenAPI document (as `telcochain serve` serves it) to docs/openapi.json.

python scripts/export_openapi.py          # after changing a route or a model of the gateway,
                                          # the hub or the console; tests/gateway/test_openapi.py checks it
"""

from __future__ import annotations

import json
from pathlib import Path

from telcochain.gateway.app import openapi_document

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
