"""`make bench`: run every benchmark in this folder, then print one summary table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["cold_init.py", "handler_latency.py", "redaction.py", "live_calls.py", "purge.py", "cost_model.py"]


def main() -> int:
    scripts = [HERE / name for name in ORDER if (HERE / name).exists()]
    scripts += sorted(
        p for p in HERE.glob("*.py") if p.name not in ORDER and not p.name.startswith(("_", "run_"))
    )
    summaries: list[dict[str, object]] = []
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        process = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent
        )
        for line in process.stdout.splitlines():
            if line.startswith("BENCH_SUMMARY "):
                summaries.append(json.loads(line.removeprefix("BENCH_SUMMARY ")))
            else:
                print(line)
        if process.returncode:
            failed.append(script.name)
            print(process.stderr[-2000:])
    print("\n=== summary ===")
    for summary in summaries:
        name = summary.pop("name")
        print(f"{name:18} " + "  ".join(f"{k}={v}" for k, v in summary.items()))
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
