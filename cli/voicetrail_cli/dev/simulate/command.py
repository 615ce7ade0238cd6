"""`voicetrail simulate`: N concurrent calls of realistic Vapi streams + their Twilio callbacks, with
retries, concurrent duplicates, out-of-order delivery and forgeries, then a read-back of what was stored.

Layers, so the logic is testable without a network:

* `plan.plan_simulation(config)`  pure: synthetic caller identities (`identities`: spoken and numeric PII),
  every call's deliveries (Vapi messages and Twilio form callbacks, unsigned) with the injected faults,
  and the `ExpectedState` (distinct events per call partition and type; forgery markers).
* `driver.HttpDriver`             thin: httpx + a thread pool, one sender per call (Vapi sends a call's
  messages in order); signs every attempt (fresh HMAC timestamp) and retries 5xx/429/connection errors
  with exponential backoff like a sender.
* `readback`                      the table's items and the functions' log lines, as searchable text.
* `evaluate.evaluate_storage`     pure: what was stored and logged against the expected state -> lost
  events, duplicate records, forged events stored, PII hits.
* this module                     the whole run (`run_simulation`), the pre-flight checks, the command.

Every count in `SimReport.failures()` must be 0.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voicetrail_cli.dev.simulate.driver import (
    HttpDriver,
    Signer,
)
from voicetrail_cli.dev.simulate.evaluate import (
    SimReport,
    evaluate_storage,
    find_pii,
    pii_needles,
    print_report,
)
from voicetrail_cli.dev.simulate.plan import (
    SimConfig,
    SimDelivery,
    SimulationPlan,
    plan_simulation,
)
from voicetrail_cli.dev.simulate.readback import item_text, log_lines, query_partitions, scan_items
from voicetrail_cli.failures import CliError

if TYPE_CHECKING:
    from voicetrail.providers.vapi.auth import VapiAuthConfig


def run_simulation(
    plan: SimulationPlan,
    driver: HttpDriver,
    *,
    dynamodb: Any = None,
    table: str | None = None,
    log_path: str | None = None,
    scan_all: bool = True,
    allow_retryable: bool = False,
    pace: Callable[[], None] | None = None,
) -> SimReport:
    stats = driver.run(plan.calls, pace=pace)
    needles = pii_needles(plan.expected.identities)
    pii = find_pii("responses", ((f"response {n}", b) for n, b in enumerate(stats.error_bodies)), needles)
    evaluation = None
    if dynamodb is not None and table:
        items = (
            scan_items(dynamodb, table)
            if scan_all
            else query_partitions(dynamodb, table, plan.expected.partitions)
        )
        evaluation = evaluate_storage(plan.expected, items)
        pii += find_pii("storage", ((f"{i['pk']['S']}|{i['sk']['S']}", item_text(i)) for i in items), needles)
    if log_path:
        pii += find_pii("logs", log_lines(log_path), needles)
    return SimReport(
        plan, stats, evaluation, pii, checked_logs=bool(log_path), allow_retryable=allow_retryable
    )


def steady_pacer(calls_per_second: float) -> Callable[[], None]:
    """Releases one call every 1/rate seconds (soak runs)."""
    interval = 1.0 / calls_per_second
    state = {"next": time.monotonic()}

    def pace() -> None:
        now = time.monotonic()
        if state["next"] > now:
            time.sleep(state["next"] - now)
        state["next"] = max(now, state["next"]) + interval

    return pace


def new_seed() -> int:
    return secrets.randbits(32)


# ---- before the run: is the target there, does it accept us, is the seed fresh? ---------------------------

EXIT_UNVERIFIED = 3  # the run went through, but storage could not be read back: nothing about it was checked


def preflight(plan: SimulationPlan, driver: HttpDriver) -> None:
    """One genuine delivery per source, sent once: fail in a second, not after minutes of retries."""
    import httpx

    firsts: dict[str, SimDelivery] = {}
    for delivery in plan.deliveries():
        if delivery.kind == "original":
            firsts.setdefault(delivery.source, delivery)
    with driver._client() as client:
        for source, delivery in sorted(firsts.items(), reverse=True):  # vapi first
            body, headers = driver.signer.sign(delivery, delivery.body())
            try:
                status = client.post(delivery.route, content=body, headers=headers, timeout=5).status_code
            except httpx.HTTPError as exc:
                raise CliError(
                    f"cannot reach {driver.base_url} ({type(exc).__name__}): is `voicetrail serve` running "
                    "there? check --base-url"
                ) from None
            if status in (401, 403) and source == "vapi":
                raise CliError(
                    f"every Vapi request got {status}: check --secret and --scheme (the target's auth)"
                )
            if status in (401, 403):
                raise CliError(
                    f"every Twilio callback got {status}: check --twilio-token and --twilio-base-url "
                    "(Twilio signs the URL it calls)"
                )
            if status == 404:
                raise CliError(
                    f"{driver.base_url}{delivery.route} answered 404: is --base-url the API's base URL?"
                )


def check_fresh_seed(plan: SimulationPlan, client: Any, table: str) -> None:
    """A seed replays the same call ids: against a table that already holds them, every count is wrong."""
    first = min(plan.expected.partitions)
    page = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": first}},
        Limit=1,
    )
    if page.get("Items"):
        raise CliError(
            f"seed {plan.config.seed} was already used against table {table} (its calls are stored): "
            "rerun with another --seed (0: a random one), or a fresh table"
        )


# ---- the `voicetrail simulate` command ----------------------------------------------------------------


def simulate(
    calls: Annotated[int, typer.Option(min=1, help="Concurrent calls.")] = 10,
    turns: Annotated[
        int, typer.Option(help="Caller turns per call (each: speech, partials, final, replies, updates).")
    ] = 5,
    concurrency: Annotated[int, typer.Option(help="Calls in flight at once (0: all of them).")] = 0,
    retry_rate: Annotated[
        float, typer.Option(help="Share of deliveries retried later (new presigned URLs).")
    ] = 0.03,
    duplicate_rate: Annotated[
        float, typer.Option(help="Share of deliveries sent twice at the same moment.")
    ] = 0.03,
    out_of_order_rate: Annotated[
        float, typer.Option(help="Share of deliveries swapped with a later one.")
    ] = 0.05,
    forged_rate: Annotated[float, typer.Option(help="Forged requests per delivery.")] = 0.01,
    twilio: Annotated[
        bool, typer.Option(help="Send the calls' Twilio status and recording callbacks.")
    ] = True,
    base_url: Annotated[
        str,
        typer.Option(
            help="Target (e.g. a `voicetrail serve` or a deployed stage). Default: start a local stack."
        ),
    ] = "",
    twilio_base_url: Annotated[
        str, typer.Option(help="Base URL configured in Twilio (default: --base-url).")
    ] = "",
    workers: Annotated[
        int, typer.Option(help="Worker processes of the local stack started when no --base-url.")
    ] = 3,
    scheme: Annotated[str, typer.Option(help="shared-secret | bearer | hmac")] = "shared-secret",
    secret: Annotated[str, typer.Option(help="Vapi secret / token.")] = "local-vapi-secret",  # noqa: S107 - the local stack's documented secret
    twilio_token: Annotated[str, typer.Option(help="Twilio auth token.")] = "local-twilio-token",  # noqa: S107
    algorithm: Annotated[str, typer.Option(help="HMAC algorithm.")] = "sha256",
    signature_header: Annotated[str, typer.Option(help="HMAC signature header.")] = "x-signature",
    timestamp_header: Annotated[str, typer.Option(help="HMAC timestamp header.")] = "x-timestamp",
    payload_format: Annotated[str, typer.Option(help="HMAC payload format.")] = "{timestamp}.{body}",
    dynamodb_endpoint: Annotated[
        str, typer.Option(help="Read back from this DynamoDB endpoint (moto, DynamoDB Local).")
    ] = "",
    aws: Annotated[bool, typer.Option(help="Read back from real DynamoDB (your credentials).")] = False,
    table: Annotated[
        str | None,
        typer.Option(
            envvar="VOICETRAIL_TABLE", help="Table to read back (with --dynamodb-endpoint: voicetrail-local)."
        ),
    ] = None,
    log_file: Annotated[str, typer.Option(help="Function log file to search for PII.")] = "",
    known_gaps: Annotated[
        bool,
        typer.Option(
            help="Include the PII shapes the canary first caught leaking (docs: Proof and benchmarks)."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed (0: random).")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Simulate N concurrent Vapi calls + Twilio callbacks with retries, duplicates, reordering and forgeries;
    read back what was stored and report lost events, duplicates, forgeries accepted, 5xx and PII (all 0)."""
    import logging
    import tempfile

    from rich.console import Console

    from voicetrail.providers.vapi.auth import VapiAuthConfig

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request lines
    console = Console()
    auth = VapiAuthConfig.model_validate(
        {
            "scheme": scheme,
            "algorithm": algorithm,
            "signature_header": signature_header,
            "timestamp_header": timestamp_header,
            "payload_format": payload_format,
        }
    )
    forgeries = ("wrong-secret", "missing-credential") + (("tampered",) if scheme == "hmac" else ())
    config = SimConfig(
        calls=calls,
        turns=turns,
        retry_rate=retry_rate,
        duplicate_rate=duplicate_rate,
        out_of_order_rate=out_of_order_rate,
        forged_rate=forged_rate,
        twilio=twilio,
        seed=seed or new_seed(),
        known_gaps=known_gaps,
        vapi_forgeries=forgeries,
    )
    plan = plan_simulation(config)
    api = None
    try:
        if not base_url:
            from voicetrail_cli.dev.local import LocalApi, LocalSecrets

            log_file = log_file or tempfile.mkstemp(prefix="voicetrail-sim-", suffix=".log")[1]
            extra = _scheme_env(auth) if scheme != "shared-secret" else {}
            with console.status("starting the local stack (moto DynamoDB + real handlers)..."):
                api = LocalApi(
                    workers=workers,
                    log_path=log_file,
                    local_secrets=LocalSecrets(vapi=secret, twilio=twilio_token),
                    extra_env=extra,
                ).start()
            base_url, dynamodb_endpoint, table = api.base_url, api.dynamodb_endpoint or "", api.table
        signer = Signer(auth, secret, twilio_token, (twilio_base_url or base_url).rstrip("/"))
        driver = HttpDriver(base_url.rstrip("/"), signer, concurrency=concurrency or calls)
        client = None
        if aws and not table:
            raise CliError(
                "--aws reads back from your deployment's table: pass --table (or VOICETRAIL_TABLE)"
            )
        table = table or "voicetrail-local"
        if dynamodb_endpoint or aws:
            from voicetrail_cli.target import dynamodb_admin_client

            client = dynamodb_admin_client(dynamodb_endpoint or None)
            check_fresh_seed(plan, client, table)
        preflight(plan, driver)
        with console.status(f"sending {sum(1 for _ in plan.deliveries())} deliveries for {calls} calls..."):
            report = run_simulation(
                plan, driver, dynamodb=client, table=table, log_path=log_file or None, scan_all=not aws
            )
    finally:
        if api is not None:
            api.stop()
    if json_output:
        print(json.dumps(report.summary()))
    else:
        print_report(report, console)
    if any(report.failures().values()):
        raise typer.Exit(1)
    if report.evaluation is None:
        raise typer.Exit(EXIT_UNVERIFIED)


def _scheme_env(auth: VapiAuthConfig) -> dict[str, str]:
    return {
        "VAPI_AUTH_SCHEME": auth.scheme.value,
        "VAPI_HMAC_ALGORITHM": auth.algorithm,
        "VAPI_SIGNATURE_HEADER": auth.signature_header,
        "VAPI_TIMESTAMP_HEADER": auth.timestamp_header,
        "VAPI_PAYLOAD_FORMAT": auth.payload_format,
    }
