"""Write schemas/stopship.schema.json from the config model (after changing app/engine/config.py)."""

from pathlib import Path

from app.engine.config_schema import SCHEMA_FILE, schema_text

target = Path(__file__).resolve().parents[1] / SCHEMA_FILE
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(schema_text(), encoding="utf-8")
print(f"wrote {SCHEMA_FILE}")
