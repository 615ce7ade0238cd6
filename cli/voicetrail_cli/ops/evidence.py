"""Signed evidence bundles, and their offline verification (`voicetrail audit verify --file`).

A bundle is one JSON document about one call: the stored events (redacted, as stored), the call's audit
chain with every field its hashes cover, the escalation rules as configured when they fired, and the call
summary. Every one of those is a *record*, and the records are bound into one structure that is signed:

  * each record's digest (its *leaf*) is SHA-256 over a domain tag, the call id, the record's position,
    its kind, its reference (event pk/sk, audit pk/seq, rule code) and its canonical JSON. A digest is
    bound to its place: the same record at another position or in another call hashes differently;
  * the leaves are folded into a hash chain in order (link_i = SHA-256(tag, link_i-1, leaf_i)); its head
    binds every record and the order;
  * the *statement* (call ids, time, record count, head, the list of (kind, ref, leaf), the key's id and
    fingerprint) is signed: ECDSA P-256 over SHA-256 of its canonical JSON, by a KMS asymmetric key in a
    deployment (voicetrail.infra.signing.KmsSigner) or by a local key file for the local stack
    (LocalKeySigner).

Why a chain and a signed leaf list rather than a Merkle tree: a bundle is one call (a few hundred records
at most) and is always verified whole, so inclusion proofs buy nothing; the chain keeps the audit trail's
model (one idea for an auditor) and the signed leaf list is what lets verification *name* the record and
the kind of tampering even when a forger recomputed every digest: an edit (same ref, other digest), a
deletion, an insertion, a reordering, a truncation. Without the right public key nothing is trusted:
`verify_bundle` checks the signature first, then compares the records to the signed statement.

Verification needs the bundle and the signer's public key (PEM) only: no AWS access. It also re-runs the
audit chain check (voicetrail.domain.audit.trail.verify_chain) and the rule snapshot check. Audit exports
(`audit export`, a list of records) are not signed: their chain is checked, and the result says so.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.calls import CallView

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from voicetrail.infra.signing import EvidenceSigner
    from voicetrail_cli.ops.call_view import CallView
    from voicetrail_cli.target import Deployment

BUNDLE_FORMAT = "voicetrail-evidence"
BUNDLE_VERSION = 2
STATEMENT_FORMAT = "voicetrail-evidence-statement"
STATEMENT_VERSION = 1
ALGORITHM = "ECDSA_SHA_256"
GENESIS = "0" * 64
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # a call's bundle is kilobytes to a few megabytes
MAX_RECORDS = 200_000
_LEAF_TAG = b"voicetrail-evidence-leaf-v1\x00"
_LINK_TAG = b"voicetrail-evidence-link-v1\x00"
_HEADER = ("call_id", "vapi_call_id", "twilio_call_sid", "generated_at", "source")
KEY_ENV = "VOICETRAIL_SIGNING_KEY"


# ---- the signed structure ----------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, ASCII (an auditor can redo it)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def leaf_digest(call_id: str, index: int, kind: str, ref: str, record: Any) -> str:
    return hashlib.sha256(_LEAF_TAG + canonical([call_id, index, kind, ref, record])).hexdigest()


def chain_head(leaves: Iterable[str]) -> str:
    link = GENESIS
    for leaf in leaves:
        link = hashlib.sha256(_LINK_TAG + bytes.fromhex(link) + bytes.fromhex(leaf)).hexdigest()
    return link


def statement_message(statement: dict[str, Any]) -> bytes:
    """What is signed: 32 bytes, SHA-256 of the statement (voicetrail.infra.signing says why)."""
    return hashlib.sha256(canonical(statement)).digest()


def _list(document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise CliError(f"the bundle's {name} is not a list: was it changed?")
    return value


def records_of(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every record of a bundle, in the signed order: (kind, ref, record)."""
    records: list[tuple[str, str, Any]] = []
    for event in _list(document, "events"):
        ref = f"{event.get('pk')}/{event.get('sk')}" if isinstance(event, dict) else "?"
        records.append(("event", ref, event))
    for row in _list(document, "audit"):
        ref = f"{row.get('pk')}/{row.get('seq')}" if isinstance(row, dict) else "?"
        records.append(("audit", ref, row))
    for snapshot in _list(document, "config_snapshots"):
        records.append(
            ("config_snapshot", str(snapshot.get("code")) if isinstance(snapshot, dict) else "?", snapshot)
        )
    if document.get("summary") is not None:
        records.append(("summary", "summary", document["summary"]))
    if len(records) > MAX_RECORDS:
        raise CliError(f"the bundle holds more than {MAX_RECORDS} records: not a voicetrail bundle")
    return records


def sign_document(document: dict[str, Any], signer: EvidenceSigner) -> dict[str, Any]:
    """The `signature` section of a bundle: the statement over its records and the signer's signature."""
    from voicetrail.infra.signing import fingerprint

    call_id = str(document["call_id"])
    leaves = [
        [kind, ref, leaf_digest(call_id, i, kind, ref, record)]
        for i, (kind, ref, record) in enumerate(records_of(document))
    ]
    statement: dict[str, Any] = {
        "format": STATEMENT_FORMAT,
        "version": STATEMENT_VERSION,
        **{name: document.get(name) for name in _HEADER},
        "records": len(leaves),
        "head": chain_head(leaf for _, _, leaf in leaves),
        "leaves": leaves,
        "key": {
            "key_id": signer.key_id,
            "algorithm": ALGORITHM,
            "fingerprint": fingerprint(signer.public_key_der()),
        },
    }
    signature = signer.sign(statement_message(statement))
    return {"statement": statement, "value": base64.b64encode(signature).decode("ascii")}


def build_bundle(view: CallView, *, source: str, now: float, signer: EvidenceSigner) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "source": source,
        "call_id": view.call_id,
        "vapi_call_id": view.vapi_call_id,
        "twilio_call_sid": view.twilio_call_sid,
        "events": view.events,
        "audit": view.audit,
        "config_snapshots": view.rule_snapshots,  # each keeps `config_json`, the exact text its hash covers
        "summary": view.summary,
    }
    # Hash what the file will hold: a JSON round trip turns tuples into lists and keys into strings.
    bundle = json.loads(json.dumps(bundle, default=str))
    bundle["verification"] = _content_checks(bundle, now=now)  # informative: the auditor recomputes it
    bundle["signature"] = sign_document(bundle, signer)
    return bundle


# ---- signers and public keys (the local key file; KMS is voicetrail.infra.signing.KmsSigner) ---------------


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voicetrail" / "evidence-signing-key.pem"


def _der(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der: bytes = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der


class LocalKeySigner:
    """An ECDSA P-256 key in a PEM file (mode 0600), created on first use: the local stack's signer.

    Its key id is `local:<fingerprint prefix>`. A key file is a secret of whoever runs the local stack;
    a deployment signs with KMS, where the private key never leaves the service.
    """

    def __init__(self, path: Path) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.path = path
        self.created = False
        if not path.exists():
            self._create(path)
            self.created = True
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise CliError(f"{path} is not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise CliError(f"{path} is not an ECDSA P-256 key (the evidence key must be P-256)")
        self._key = key

    @staticmethod
    def _create(path: Path) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)

    @property
    def key_id(self) -> str:
        from voicetrail.infra.signing import fingerprint

        return "local:" + fingerprint(self.public_key_der()).removeprefix("SHA256:")[:16]

    def public_key_der(self) -> bytes:
        return _der(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature: bytes = self._key.sign(message, ec.ECDSA(hashes.SHA256()))
        return signature


def resolve_signer(spec: str | None, target: Deployment) -> EvidenceSigner:
    """`kms:<key id|ARN|alias>`, `file:<path>` or a path; by default the stack's KMS key (stack output
    EvidenceSigningKey) with --stack, else the local key file (created on first use)."""
    if spec is None and target.output("EvidenceSigningKey"):
        spec = "kms:" + str(target.output("EvidenceSigningKey"))
    if spec and spec.startswith("kms:"):
        import boto3

        from voicetrail.infra.signing import KmsSigner

        return KmsSigner(boto3.client("kms", region_name=target.region), spec.removeprefix("kms:"))
    path = Path(spec.removeprefix("file:")) if spec else default_key_path()
    return LocalKeySigner(path)


def public_key_pem(signer: EvidenceSigner) -> str:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_der_public_key,
    )

    pem: bytes = load_der_public_key(signer.public_key_der()).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def load_public_key(path: Path) -> EllipticCurvePublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"--public-key {path}: file not found") from None
    if len(data) > 64 * 1024:
        raise CliError(f"--public-key {path}: not a public key (too large)")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        raise CliError(
            f"--public-key {path}: not a PEM public key (voicetrail audit public-key writes one)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CliError(f"--public-key {path}: not an ECDSA P-256 public key")
    return key


def key_fingerprint(key: EllipticCurvePublicKey) -> str:
    from voicetrail.infra.signing import fingerprint

    return fingerprint(_der(key))


# ---- loading -----------------------------------------------------------------------------------------


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text)))


def load_document(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CliError(f"{path}: file not found") from None
    if size > MAX_BUNDLE_BYTES:
        raise CliError(f"{path} is larger than {MAX_BUNDLE_BYTES // 2**20} MB: not a voicetrail bundle")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".csv" or text.startswith("chain,"):
        return _rows_from_csv(text)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise CliError(
            f"{path} is not valid JSON: it was truncated or changed (bundles and exports are JSON); "
            "nothing in it can be trusted"
        ) from None


# ---- verification ------------------------------------------------------------------------------------


def _ref(row: dict[str, Any]) -> str:
    return f"{row.get('pk')}/{row.get('seq')}"


def _break(kind: str, index: int, ref: str, problem: str) -> dict[str, Any]:
    return {"chain": kind, "seq": index, "record": ref, "problem": problem}


def verify_records(rows: list[Any], *, now: float, whole_chains: bool) -> dict[str, Any]:
    from voicetrail.domain.audit.trail import ChainBreak, ExportFormatError, record_from_export, verify_chain

    chains: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if not isinstance(row, dict):
            raise CliError("not an audit export: expected a list of records")
        try:
            record = record_from_export(row)
        except ExportFormatError as exc:
            raise CliError(f"not a complete audit export: {exc}") from None
        chains[record.pk].append(record)
    breaks: list[ChainBreak] = []
    notes: list[str] = []
    truncated = 0
    pks = {records[0].chain: pk for pk, records in chains.items()}
    for _pk, records in sorted(chains.items()):
        records.sort(key=lambda r: r.seq)
        found, cut = verify_chain(records, now=now)
        first = records[0]
        head = ChainBreak(first.chain, first.seq, "missing_head")
        if not whole_chains and head in found:
            # An export --since starts where the range starts: the link before it is not in the file.
            found.remove(head)
            notes.append(f"{first.chain} starts at record {first.seq}: earlier records are not in the file")
        breaks.extend(found)
        truncated += cut
    return {
        "ok": not breaks,
        "chains": len(chains),
        "records": sum(len(r) for r in chains.values()),
        "truncated_by_retention": truncated,
        "breaks": [{**b.as_dict(), "record": f"{pks.get(b.chain, b.chain)}/{b.seq}"} for b in breaks],
        "notes": notes,
    }


def _content_checks(document: dict[str, Any], *, now: float) -> dict[str, Any]:
    """The audit chains (whole, in a bundle) and the rule snapshots the escalation records name."""
    result = verify_records(_list(document, "audit"), now=now, whole_chains=True)
    problems: list[dict[str, Any]] = []
    snapshots = {s.get("code"): s for s in _list(document, "config_snapshots") if isinstance(s, dict)}
    for row in _list(document, "audit"):
        details = row.get("details") or {}
        if row.get("kind") != "escalation" or not isinstance(details, dict) or "config" not in details:
            continue
        snapshot = snapshots.get(details["config"])
        if snapshot is None:
            problems.append(
                _break(str(row.get("chain")), int(row.get("seq") or 0), _ref(row), "rule_snapshot_missing")
            )
            continue
        digest = hashlib.sha256(str(snapshot.get("config_json", "")).encode("utf-8")).hexdigest()
        if "c" + digest[:16] != details["config"]:
            problems.append(
                _break(str(row.get("chain")), int(row.get("seq") or 0), _ref(row), "rule_snapshot_mismatch")
            )
    if not _list(document, "audit"):
        result["notes"].append("the bundle holds no audit records")
    result["breaks"].extend(problems)
    result["ok"] = not result["breaks"]
    return result


def _signature_problems(
    document: dict[str, Any], key: EllipticCurvePublicKey
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Problems with the signature, and the statement when it is genuine (signed by `key`)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    section = document.get("signature")
    if not isinstance(section, dict) or not isinstance(section.get("statement"), dict):
        return [_break("bundle", 0, "signature", "unsigned")], None
    statement: dict[str, Any] = section["statement"]
    problems: list[dict[str, Any]] = []
    raw_key = statement.get("key")
    named: dict[str, Any] = raw_key if isinstance(raw_key, dict) else {}
    given = key_fingerprint(key)
    if named.get("fingerprint") != given:
        # Signed by another key (or the key named was changed): the signature check below says which.
        problems.append(_break("bundle", 0, str(named.get("key_id")), "key_mismatch"))
    try:
        signature = base64.b64decode(str(section.get("value", "")), validate=True)
        key.verify(signature, statement_message(statement), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        problems.append(_break("bundle", 0, "signature", "signature_invalid"))
        return problems, None
    return problems, statement


def _record_problems(document: dict[str, Any], statement: dict[str, Any]) -> list[dict[str, Any]]:
    """Compare the bundle's records with the genuine statement: name each edit, deletion, insertion,
    move and truncation."""
    problems: list[dict[str, Any]] = []
    for name in _HEADER:
        if document.get(name) != statement.get(name):
            problems.append(_break("bundle", 0, name, "header_edited"))
    signed_leaves = statement.get("leaves")
    if not isinstance(signed_leaves, list):
        return [*problems, _break("bundle", 0, "statement", "statement_malformed")]
    if not all(isinstance(leaf, list) and len(leaf) == 3 for leaf in signed_leaves):
        return [*problems, _break("bundle", 0, "statement", "statement_malformed")]
    signed: dict[tuple[str, str], tuple[int, str]] = {}
    for i, leaf in enumerate(signed_leaves):
        signed.setdefault((str(leaf[0]), str(leaf[1])), (i, str(leaf[2])))
    try:
        head = chain_head(str(leaf[2]) for leaf in signed_leaves)
    except ValueError:
        return [*problems, _break("bundle", 0, "statement", "statement_malformed")]
    if head != statement.get("head") or statement.get("records") != len(signed_leaves):
        problems.append(_break("bundle", 0, "statement", "head_mismatch"))
    call_id = str(statement.get("call_id"))
    seen: set[tuple[str, str]] = set()
    order: list[tuple[int, str, str]] = []
    for position, (kind, ref, record) in enumerate(records_of(document)):
        found = signed.get((kind, ref))
        if found is None or (kind, ref) in seen:
            problems.append(_break(kind, position, ref, "record_inserted"))
            continue
        seen.add((kind, ref))
        index, digest = found
        if leaf_digest(call_id, index, kind, ref, record) != digest:
            problems.append(_break(kind, index, ref, "record_edited"))
        order.append((index, kind, ref))
    highest = -1
    for index, kind, ref in order:
        if index < highest:
            problems.append(_break(kind, index, ref, "record_moved"))
        highest = max(highest, index)
    missing = sorted(i for key, (i, _) in signed.items() if key not in seen)
    tail = len(signed_leaves) - len(missing)
    truncated = bool(missing) and missing == list(range(tail, len(signed_leaves))) and len(seen) == tail
    for index in missing:
        kind, ref = str(signed_leaves[index][0]), str(signed_leaves[index][1])
        problems.append(_break(kind, index, ref, "truncated" if truncated else "record_deleted"))
    return problems


def verify_bundle(
    document: dict[str, Any], *, now: float, public_key: EllipticCurvePublicKey
) -> dict[str, Any]:
    if document.get("version") != BUNDLE_VERSION:
        raise CliError(
            f"evidence bundle version {document.get('version')!r} is not supported: version 1 bundles were "
            "unsigned; export the call again"
        )
    result = _content_checks(document, now=now)
    problems, statement = _signature_problems(document, public_key)
    if statement is not None:
        problems += _record_problems(document, statement)
    result["breaks"] = problems + result["breaks"]
    result["ok"] = not result["breaks"]
    result["signed_records"] = len(statement.get("leaves") or []) if statement else 0
    result["key"] = {"fingerprint": key_fingerprint(public_key), "signature_valid": statement is not None}
    return result


def verify_document(
    document: Any, *, now: float, public_key: EllipticCurvePublicKey | None
) -> dict[str, Any]:
    if isinstance(document, list):
        result = verify_records(document, now=now, whole_chains=False)
        result["notes"].append(
            "an audit export is not signed: it shows the chains are whole, not who wrote them"
        )
        return result
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise CliError("not an evidence bundle nor an audit export (voicetrail evidence / audit export)")
    if public_key is None:
        raise CliError(
            "verifying a bundle needs the signer's public key: --public-key FILE "
            "(`voicetrail audit public-key` writes it; check its fingerprint with the one the export printed)"
        )
    return verify_bundle(document, now=now, public_key=public_key)


def verify_file(path: Path, *, now: float, public_key: Path | None = None) -> dict[str, Any]:
    document = load_document(path)
    key = load_public_key(public_key) if public_key is not None else None
    return verify_document(document, now=now, public_key=key)
