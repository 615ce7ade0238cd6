"""The simulator's evaluation (pure) and report: what was stored and logged against the expected state
-> lost events, duplicate records, forged events stored, PII hits; every count must be 0."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voicetrail_cli.dev.simulate.driver import (
    RunStats,
)
from voicetrail_cli.dev.simulate.identities import (
    Identity,
)
from voicetrail_cli.dev.simulate.plan import (
    FORGED_MARKER,
    FORGED_SEQUENCE,
    ExpectedState,
    SimulationPlan,
)
from voicetrail_cli.dev.simulate.readback import item_text
from voicetrail_cli.output import show

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class PiiHit:
    where: str  # storage | logs | responses
    kind: str  # needle kind (never the value)
    context: str  # the item key / log line number / response index

    def __str__(self) -> str:
        return f"{self.where}:{self.kind}@{self.context}"


@dataclass
class Evaluation:
    stored_events: int
    lost: int
    duplicates: int
    forged_stored: int
    missing_by_type: Counter[str]
    extra_by_type: Counter[str]


def evaluate_storage(expected: ExpectedState, items: Iterable[Mapping[str, Any]]) -> Evaluation:
    """Compare stored event items (sk EVT#...) with the expected distinct events per partition and type."""
    got: Counter[tuple[str, str]] = Counter()
    forged = 0
    partitions = expected.partitions
    for item in items:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk not in partitions or not sk.startswith("EVT#"):
            continue
        text = item_text(item)
        if FORGED_MARKER[:-1] in text or f'"SequenceNumber":"{FORGED_SEQUENCE}"' in text.replace("\\", ""):
            forged += 1
            continue
        got[(pk, item.get("event_type", {}).get("S", "?"))] += 1
    lost = duplicates = 0
    missing: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    for key in set(expected.buckets) | set(got):
        diff = got[key] - expected.buckets[key]
        if diff < 0:
            lost -= diff
            missing[key[1]] -= diff
        elif diff > 0:
            duplicates += diff
            extra[key[1]] += diff
    return Evaluation(sum(got.values()), lost, duplicates, forged, missing, extra)


def pii_needles(identities: Iterable[Identity]) -> dict[str, str]:
    """needle (lower case) -> kind."""
    out: dict[str, str] = {}
    for identity in identities:
        for kind, value in identity.needles().items():
            out[value.lower()] = kind
    return out


def find_pii(where: str, texts: Iterable[tuple[str, str]], needles: Mapping[str, str]) -> list[PiiHit]:
    hits: list[PiiHit] = []
    for context, text in texts:
        lowered = text.lower()
        hits.extend(PiiHit(where, kind, context) for needle, kind in needles.items() if needle in lowered)
    return hits


# ---- the whole run -----------------------------------------------------------------------------------------


@dataclass
class SimReport:
    plan: SimulationPlan
    stats: RunStats
    evaluation: Evaluation | None
    pii: list[PiiHit]
    checked_logs: bool
    allow_retryable: bool = False  # a fault-injection run: 503s are expected, retried away

    def failures(self) -> dict[str, int]:
        ev = self.evaluation
        out = {
            "lost events": ev.lost if ev else 0,
            "duplicate records": ev.duplicates if ev else 0,
            "forged accepted": self.stats.forged_accepted + (ev.forged_stored if ev else 0),
            "genuine not acknowledged": self.stats.genuine_failed,
            "5xx responses": self.stats.status_5xx_final if self.allow_retryable else self.stats.status_5xx,
            "500 responses": self.stats.status_500,
            "PII found": len(self.pii),
        }
        return out

    @property
    def ok(self) -> bool:
        return self.evaluation is not None and not any(self.failures().values())

    def summary(self) -> dict[str, Any]:
        s = self.stats
        return {
            "calls": len(self.plan.calls),
            "deliveries": s.deliveries,
            "requests": s.requests,
            "kinds": dict(s.kinds),
            "expected_events": self.plan.expected.total,
            "stored_events": self.evaluation.stored_events if self.evaluation else None,
            **{k.replace(" ", "_"): v for k, v in self.failures().items()},
            "retryable_5xx_seen": s.status_5xx,
            "connection_errors": s.connection_errors,
            "statuses": {str(k): v for k, v in sorted(s.statuses.items(), key=lambda kv: str(kv[0]))},
            "elapsed_s": round(s.elapsed_s, 2),
            "requests_per_s": round(s.rps, 1),
            "p50_ms": round(s.percentile_ms(50), 2),
            "p99_ms": round(s.percentile_ms(99), 2),
            "max_ms": round(max(s.latencies_s, default=0) * 1000, 2),
            "storage_checked": self.evaluation is not None,
            "logs_checked": self.checked_logs,
            "pii_hits": [str(h) for h in self.pii[:20]],
        }


def latency_line(stats: RunStats) -> str:
    lat = stats.latencies_s
    mean = statistics.fmean(lat) * 1000 if lat else float("nan")
    return (
        f"{stats.requests} requests in {stats.elapsed_s:.1f}s = {stats.rps:.0f} req/s; latency "
        f"p50 {stats.percentile_ms(50):.1f} ms, p99 {stats.percentile_ms(99):.1f} ms, "
        f"max {max(lat, default=0) * 1000:.1f} ms, mean {mean:.1f} ms"
    )


def print_report(report: SimReport, console: Any) -> None:
    from rich.table import Table

    s = report.stats
    sent = Table(title=f"simulated {len(report.plan.calls)} calls", show_header=True)
    for column in ("what", "count"):
        sent.add_column(column)
    for kind in ("original", "retry", "duplicate", "forged"):
        sent.add_row(f"deliveries: {kind}", str(s.kinds.get(kind, 0)))
    sent.add_row("HTTP requests (with sender retries)", str(s.requests))
    sent.add_row(
        "statuses",
        ", ".join(
            f"{k or 'conn-error'}: {v}" for k, v in sorted(s.statuses.items(), key=lambda kv: str(kv[0]))
        ),
    )
    sent.add_row("distinct events expected", str(report.plan.expected.total))
    sent.add_row(
        "event items stored", str(report.evaluation.stored_events) if report.evaluation else "not read back"
    )
    show(sent, out=console)
    checks = Table(title="must be 0", show_header=True)
    checks.add_column("check")
    checks.add_column("count", justify="right")
    for name, value in report.failures().items():
        unchecked = report.evaluation is None and (
            name in ("lost events", "duplicate records") or (name == "PII found" and not report.checked_logs)
        )
        checks.add_row(
            name, "[yellow]not checked[/]" if unchecked else f"[{'green' if not value else 'red'}]{value}[/]"
        )
    show(checks, out=console)
    if report.evaluation is None:
        console.print(
            "[yellow]storage was NOT read back[/]: lost events, duplicates and PII in storage are unchecked. "
            "Pass --dynamodb-endpoint URL (a local stack) or --aws with --table to check them."
        )
    console.print(
        latency_line(s) + (f"; retryable 5xx seen (and retried): {s.status_5xx}" if s.status_5xx else "")
    )
    if report.pii:
        console.print("PII hits (kind@where, never the value): " + ", ".join(str(h) for h in report.pii[:10]))
    if not report.checked_logs:
        console.print("function logs not searched (pass --log-file with the stack's log)")
