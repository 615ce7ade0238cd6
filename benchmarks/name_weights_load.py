"""Load time of the name tagger's weights: the data file against the generated module it replaced.

    python benchmarks/name_weights_load.py                   # this interpreter, 15 runs each
    python benchmarks/name_weights_load.py --python python3.13 --runs 21 --before fb3c3bb

Side by side in one run, interleaved, each sample in a fresh interpreter (`-I -S`, no site): the "before"
is `redaction/_name_model.py` taken from git at `--before`, compiled to bytecode with unchecked hashes as the
layer build does, and imported; the "after" is `load_weights()` on `redaction/data/name_tagger.bin`. Both
time only the load itself (`json` and `array` are imported first: every Lambda handler has them already),
in CPU time of the process (`process_time`): on a machine shared with other jobs, wall time mostly measures
the wait for a core.
Prints the median and p90 in milliseconds and the sizes on disk. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "common"
OLD_MODULE = "layers/common/voicetrail/redaction/_name_model.py"

BEFORE = """
import json, array, sys, time
sys.path.insert(0, sys.argv[1])
t = time.process_time()
import _name_model
n = len(_name_model.STATE)
print(json.dumps([time.process_time() - t, n]))
"""
AFTER = """
import json, array, sys, time, importlib.util
spec = importlib.util.spec_from_file_location("names_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t = time.process_time()
labels, trans, state = module.load_weights(sys.argv[2])
print(json.dumps([time.process_time() - t, len(state)]))
"""


def _sample(python: str, code: str, *args: str) -> tuple[float, int]:
    out = subprocess.run([python, "-I", "-S", "-c", code, *args], capture_output=True, text=True, check=True)
    seconds, features = json.loads(out.stdout)
    return float(seconds), int(features)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", default="fb3c3bb", help="a commit that still has _name_model.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = Path(tmp) / "old"
        old_dir.mkdir()
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{args.before}:{OLD_MODULE}"],
            capture_output=True,
            check=True,
        ).stdout
        (old_dir / "_name_model.py").write_bytes(source)
        subprocess.run(
            [
                args.python,
                "-c",
                "import compileall, sys; compileall.compile_dir(sys.argv[1], quiet=1, "
                "invalidation_mode=__import__('py_compile').PycInvalidationMode.UNCHECKED_HASH)",
                str(old_dir),
            ],
            check=True,
        )
        names_py = Path(tmp) / "names_under_test.py"
        shutil.copy(LAYER / "voicetrail" / "redaction" / "_names.py", names_py)
        weights = LAYER / "voicetrail" / "redaction" / "data" / "name_tagger.bin"
        before: list[float] = []
        after: list[float] = []
        counts: set[tuple[str, int]] = set()
        for _ in range(args.runs):
            seconds, n = _sample(args.python, BEFORE, str(old_dir))
            before.append(seconds)
            counts.add(("before", n))
            seconds, n = _sample(args.python, AFTER, str(names_py), str(weights))
            after.append(seconds)
            counts.add(("after", n))
        pyc = sum(p.stat().st_size for p in old_dir.rglob("*.pyc"))
        version = subprocess.run(
            [args.python, "-V"], capture_output=True, text=True, check=True
        ).stdout.strip()
        print(f"{version}, {args.runs} fresh interpreters each, interleaved")
        print(f"{'':<36}{'median ms':>10}{'p90 ms':>9}{'on disk':>12}  features  (CPU time)")
        for label, samples, size, kind in (
            (f"before: _name_model.py bytecode ({args.before})", before, pyc, "before"),
            ("after: data/name_tagger.bin", after, weights.stat().st_size, "after"),
        ):
            p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
            feats = ",".join(str(n) for k, n in sorted(counts) if k == kind)
            print(
                f"{label:<36}{statistics.median(samples) * 1000:>10.2f}{p90 * 1000:>9.2f}"
                f"{size / 1024:>9.0f} KB  {feats}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
