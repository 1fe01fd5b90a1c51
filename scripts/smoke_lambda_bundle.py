"""Import a built function bundle as Lambda would, with nothing on the path but the bundle and its layer.

Run by scripts/check-template.sh as ``python -S smoke_lambda_bundle.py [PHONES.json]`` with PYTHONPATH
set to the built function, the lock file's dependencies (installed for this machine) and a boto3 standing
in for the runtime's. ``-S`` keeps every virtualenv and site directory off the path, so a module the
bundle lacks fails here as it would in Lambda.

It imports every handler and builtin connector, builds the wiring from the bundled configuration
document, and prints as JSON how the phone numbers in PHONES.json (``[[text, region], ...]``) normalise,
for the caller to compare with the full phonenumbers library.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path


def main() -> int:
    bundle = Path(importlib.import_module("functions").__file__ or "").resolve().parent.parent
    os.environ.update(
        TABLE_NAME="profilesync-smoke-profiles",
        PROFILESYNC_CONFIG="profilesync.yaml",
        LAMBDA_TASK_ROOT=str(bundle),
        POWERTOOLS_SERVICE_NAME="profilesync",
        POWERTOOLS_METRICS_NAMESPACE="ProfileSync",
        AWS_DEFAULT_REGION="us-east-1",
    )
    for handler in ("dispatch", "pull", "merge", "push", "privacy"):
        module = importlib.import_module(f"functions.{handler}")
        assert callable(module.handler), handler
    from functions._wiring import Settings

    Settings.from_environment()  # the bundled document loads and validates
    from profilesync import registry

    for name in registry.BUILTIN:
        registry.get(name)
    import phonenumbers

    assert str(bundle) not in (phonenumbers.__file__ or ""), "phonenumbers must come from the layer"
    try:
        importlib.import_module("phonenumbers.geocoder")
    except ImportError:
        pass
    else:
        raise AssertionError("the full phonenumbers is on the path, not phonenumberslite")
    from core.errors import NormalisationError
    from core.normalise import normalise_phone

    phones = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else []
    results: list[str] = []
    for text, region in phones:
        try:
            results.append(normalise_phone(text, region))
        except NormalisationError as error:
            results.append(f"error: {error.reason}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
