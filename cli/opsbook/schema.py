"""The published JSON Schema of `opsbook run --json` (opsbook.report/v2), shipped with the package."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

REPORT_SCHEMA_FILE = "report-v2.json"


@lru_cache(maxsize=None)
def report_schema() -> dict:
    return json.loads(resources.files("opsbook").joinpath("schemas", REPORT_SCHEMA_FILE).read_text())


def report_errors(report: dict) -> list[str]:
    """Every way ``report`` departs from the schema, as ``path: message`` lines (empty: valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema())
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(report)'}: {error.message}"
            for error in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))]
