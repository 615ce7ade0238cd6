"""What reading the pepper (and recording its fingerprint) during authentication saves on the first
request after a cold start.

Two copies of the layer are built as SAM builds it; in the second, `SecretResolver.prefetch` is turned into
a no-op (the copy only, never the source). Fresh python3.13 interpreters then run `vapi_webhook`'s init and
one signed transcript against a moto server, the two layers interleaved, and the first request's time
(after init) is compared. `--rtt-ms` adds a simulated network round trip to every AWS call (a sleep before
the request is sent, which releases the GIL as a network wait does): on loopback moto answers in ~3 ms,
while Secrets Manager and DynamoDB in the same region take 5 to 30 ms, more for the first call's TLS
handshake.

    make bench-deps && .venv/bin/python benchmarks/secret_prefetch.py --python .venv-lambda/bin/python
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cold_init
from _common import emit_summary

ROOT = Path(__file__).resolve().parents[1]
PREFETCH_GUARD = (
    '        if self.ref.source == "env" or self._clock() < self._fresh_until:\n            return\n'
)


def layer_without_prefetch(python: str, into: Path) -> Path:
    layer = cold_init.build_layer(python, into)
    module = layer / "voicetrail" / "secrets.py"
    text = module.read_text()
    if PREFETCH_GUARD not in text:
        raise SystemExit("SecretResolver.prefetch changed: update PREFETCH_GUARD in this benchmark")
    module.write_text(text.replace(PREFETCH_GUARD, "        return\n", 1))
    subprocess.run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(layer)], check=True
    )
    return layer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="interpreter, e.g. .venv-lambda/bin/python")
    parser.add_argument("--rtt-ms", type=float, nargs="+", default=[0.0, 10.0])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="voicetrail-prefetch-") as tmp:
        with_prefetch = cold_init.build_layer(args.python, Path(tmp) / "on")
        without = layer_without_prefetch(args.python, Path(tmp) / "off")
        server, endpoint = cold_init.start_aws()
        try:
            events = Path(tmp) / "events.json"
            cold_init.first_transcripts(2 * args.runs * len(args.rtt_ms), events)
            event = 0
            print(f"first request after a cold start, median of {args.runs} interpreters a side")
            for rtt in args.rtt_ms:
                samples: dict[str, list[float]] = {"on": [], "off": []}
                runners = {
                    side: cold_init.Runner(args.python, cold_init.function_environment(layer, endpoint))
                    for side, layer in (("on", with_prefetch), ("off", without))
                }
                for runner in runners.values():
                    runner.env["BENCH_RTT_MS"] = str(rtt)
                for _ in range(args.runs):
                    for side, runner in runners.items():
                        line = runner.lines(
                            cold_init.HANDLER_FIRST, str(cold_init.APP), str(events), str(event)
                        )
                        result = line[-1].split()
                        assert result[0] == "RESULT" and result[3] == "200", result
                        samples[side].append(float(result[2]) - float(result[1]))
                        event += 1
                on, off = (statistics.median(samples[s]) * 1000 for s in ("on", "off"))
                print(
                    f"  round trip {rtt:4.1f} ms: pepper in the background {on:6.1f} ms, "
                    f"in turn {off:6.1f} ms, saved {off - on:5.1f} ms"
                )
                figures[f"rtt_{rtt:g}_prefetch_ms"] = round(on, 1)
                figures[f"rtt_{rtt:g}_sequential_ms"] = round(off, 1)
        finally:
            server.stop()
    emit_summary("secret_prefetch", figures)


if __name__ == "__main__":
    main()
