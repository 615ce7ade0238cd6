"""Cold start: no cycle collection while a Lambda function initialises.

Importing boto3, botocore, pydantic and Powertools allocates hundreds of thousands of objects that live as
long as the process. CPython's cycle collector runs over and over during those imports (a gen-0 pass every
2,000 allocations, older generations as they fill) and finds nothing to free: on a 2-core machine that is
~10% of the vapi_webhook init (benchmarks/cold_init.py). Each function's app.py imports this module first
(an isort section of its own, see pyproject.toml), which pauses the collector, and calls `init_done()` at
the end of its module: everything allocated so far moves to the permanent generation (`gc.freeze`, never
scanned again, so later collections during requests are cheaper too) and collection resumes.

Only inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set by the runtime): a test or a local run that imports a
handler, and whose init fails half-way, must not be left without a cycle collector.
"""

from __future__ import annotations

import gc
import os

_PAUSED = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and gc.isenabled()
if _PAUSED:
    gc.disable()


def init_done() -> None:
    """End of the function's init: freeze what init allocated and resume cycle collection."""
    global _PAUSED
    if _PAUSED:
        gc.freeze()
        gc.enable()
        _PAUSED = False
