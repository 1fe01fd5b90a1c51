"""Lambda handlers: thin adapters from AWS events to the use cases in core/.

In Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set), importing this package pauses the garbage collector
(it collects rarely) for the cold start's imports, none of which is garbage; each handler module
resumes it as its last statement (``core.runtime.resume_gc``: core/runtime.py says why, and
tests/unit/functions/test_cold_start.py checks every handler of template.yaml). Anywhere else
(tests, the local runtime, the CLI) the process's collector is left alone.
"""

import os

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    from core.runtime import pause_gc

    pause_gc()
