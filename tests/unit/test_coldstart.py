"""voicetrail.coldstart: the cycle collector is paused for a Lambda init only, and always resumed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PROBE = """
import gc, json
import voicetrail.coldstart as coldstart
during = gc.isenabled()
coldstart.init_done()
print(json.dumps({"during": during, "after": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}))
"""


@pytest.mark.parametrize(
    ("function_name", "expected"),
    [
        ("vapi_webhook", {"during": False, "after": True, "frozen": True}),  # inside Lambda
        ("", {"during": True, "after": True, "frozen": False}),  # tests, local runs: untouched
    ],
)
def test_collector_paused_only_for_a_lambda_init(function_name: str, expected: dict[str, bool]) -> None:
    import json

    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    if function_name:
        env["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == expected


def test_every_function_pauses_first_and_resumes_last() -> None:
    from pathlib import Path

    for app in sorted((Path(__file__).resolve().parents[2] / "functions").glob("*/app.py")):
        code = [line for line in app.read_text().splitlines() if line and not line.startswith(("#", '"""'))]
        imports = [
            line for line in code if line.startswith(("import ", "from ")) and "__future__" not in line
        ]
        assert imports[0].startswith("from voicetrail.coldstart import init_done"), app
        assert code[-1].startswith("init_done()"), app
