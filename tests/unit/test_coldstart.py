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


ON_DEMAND = """
import json, sys
import voicetrail.domain.callers as hashing, voicetrail.providers.vapi.predial
loaded_at_import = "phonenumbers" in sys.modules
hashing.CallerHasher("pepper").hash("+14155550123")
after_us_caller = "phonenumbers" in sys.modules
hashing.CallerHasher("pepper").hash("+442079460000")
print(json.dumps([loaded_at_import, after_us_caller, "phonenumbers" in sys.modules]))
"""


def test_phonenumbers_loads_on_the_first_number_that_needs_it() -> None:
    """~15 ms of cold start: not paid by a process that only ever sees North American E.164 callers."""
    import json

    out = subprocess.run([sys.executable, "-c", ON_DEMAND], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, False, True]


def test_every_dataclass_of_the_layer_has_a_docstring() -> None:
    """Without one, @dataclass builds `__doc__` from inspect.signature at import: ~0.1-0.2 ms a class
    on every cold start. (And a value type deserves a line saying what it is.)"""
    import dataclasses
    import importlib
    import inspect
    import pkgutil

    import voicetrail

    missing = []
    for info in pkgutil.walk_packages(voicetrail.__path__, "voicetrail."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            ours = inspect.isclass(obj) and obj.__module__ == info.name
            if ours and dataclasses.is_dataclass(obj) and (obj.__doc__ or "").startswith(f"{name}("):
                missing.append(f"{info.name}.{name}")
    assert missing == []


# What the vapi_webhook function does not load at init: each is loaded by the first message that needs it.
NOT_AT_INIT = ("phonenumbers", "voicetrail.domain.latency", "httpx", "twilio")


def test_the_vapi_webhook_init_leaves_out_what_its_first_message_may_not_need() -> None:
    import json
    from pathlib import Path

    app = Path(__file__).resolve().parents[2] / "functions" / "vapi_webhook" / "app.py"
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(json.dumps([m for m in {list(NOT_AT_INIT)!r} if m in sys.modules]))\n"
    )
    env = {
        **os.environ,
        "TABLE_NAME": "voicetrail-test",
        "VAPI_SECRET_REF": "env:S",
        "HASH_PEPPER_REF": "env:P",
    }
    env.update(VOICETRAIL_ALLOW_ENV_SECRETS="true", AWS_DEFAULT_REGION="us-east-1", LIVE_CALL_CONTROL="true")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.splitlines()[-1]) == []
