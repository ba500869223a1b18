"""The OCDS 1.1.5 release schema patched with the vendored extensions, built offline.

Order: core 1.1.5, then every extension under vendor/extensions (JSON Merge Patch,
RFC 7386), then the Cabinet Office UK extension. Nothing is ever downloaded.
"""

import json
from functools import lru_cache
from pathlib import Path

import ocdsmerge

VENDOR = Path(__file__).resolve().parent / "vendor"


def merge_patch(target, patch):
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@lru_cache(maxsize=1)
def release_schema() -> dict:
    schema = json.loads((VENDOR / "release-schema-1.1.5.json").read_text())
    for ext in sorted((VENDOR / "extensions").iterdir()):
        schema = merge_patch(schema, json.loads((ext / "release-schema.json").read_text()))
    return merge_patch(schema, json.loads((VENDOR / "ocds_uk_extension" / "release-schema.json").read_text()))


@lru_cache(maxsize=1)
def merger() -> ocdsmerge.Merger:
    return ocdsmerge.Merger(schema=release_schema())


def write_schema(path):
    """Write the patched schema (for ``ocdskit compile --schema`` in the benchmark)."""
    Path(path).write_text(json.dumps(release_schema(), indent=1))
    return path
