"""The JSON Schema of `.github/stopship.yml`, generated from the pydantic model
(`StopshipConfig`): editors check the file against it through the yaml-language-server comment
`stopship init` writes. Kept in `schemas/stopship.schema.json` (a test keeps it in sync;
`python scripts/write_config_schema.py` writes it)."""

from __future__ import annotations

import json
from typing import Any

from app.engine.config import StopshipConfig
from app.engine.config_template import SCHEMA_URL

SCHEMA_FILE = "schemas/stopship.schema.json"


def config_schema() -> dict[str, Any]:
    """The schema (JSON Schema 2020-12) of the config file, with its published address."""
    generated = StopshipConfig.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        **generated,
        "title": "stopship configuration (.github/stopship.yml)",
    }


def schema_text() -> str:
    """The schema file's exact text."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
