"""Signing evidence with an asymmetric key held in AWS KMS (the deployment's signer).

An evidence bundle's signed statement is turned into a 32-byte message (SHA-256 of its canonical JSON)
and that message is signed with ECDSA over NIST P-256 and SHA-256 (KMS key spec `ECC_NIST_P256`,
algorithm `ECDSA_SHA_256`). Why this scheme:

  * P-256/ECDSA is what both signers can do: KMS asymmetric keys and the local key file of the local
    stack (voicetrail_cli.ops.evidence, with `cryptography`); an auditor verifies either with any ECDSA
    library and the public key alone.
  * The message is always 32 bytes, sent as `MessageType=RAW`: KMS hashes it with SHA-256 and signs, as
    `cryptography` does with `ec.ECDSA(SHA256())`. A RAW message is limited to 4,096 bytes, so the
    statement (which lists every record's digest) is never sent whole; and `DIGEST` mode is not
    emulated by moto, so RAW keeps one code path for KMS, the local signer and the tests.

The bundle names the concrete key (its ARN, never an alias) and the public key's fingerprint (SHA-256 of
its DER SubjectPublicKeyInfo), so bundles signed before a key rotation still name the key that verifies
them (docs/operations/evidence.md). boto3 is the only dependency: `cryptography` stays out of the layer.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import DependencyUnavailableError

KEY_SPEC = "ECC_NIST_P256"
SIGNING_ALGORITHM = "ECDSA_SHA_256"


class SigningUnavailableError(DependencyUnavailableError):
    """The signing key could not be used (KMS refused or is unreachable). Names no key material."""


class EvidenceSigner(Protocol):
    """Signs 32-byte statement digests with an ECDSA P-256 key; the bundle records `key_id`."""

    @property
    def key_id(self) -> str: ...

    def public_key_der(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo (what `fingerprint` hashes)."""
        ...

    def sign(self, message: bytes) -> bytes:
        """A DER-encoded ECDSA signature over SHA-256(message)."""
        ...


def fingerprint(public_key_der: bytes) -> str:
    """`SHA256:<hex>` of the DER SubjectPublicKeyInfo: printed with every export, written in every bundle."""
    return "SHA256:" + hashlib.sha256(public_key_der).hexdigest()


class KmsSigner:
    """An `EvidenceSigner` over a KMS asymmetric key (`SIGN_VERIFY`, `ECC_NIST_P256`).

    `key` may be a key id, an ARN or an alias: the first call resolves it to the key's ARN (DescribeKey
    answers with it), and that ARN is what bundles record, so a later alias move does not change what an
    old bundle names. Needs `kms:DescribeKey`, `kms:GetPublicKey` and `kms:Sign` on that key only
    (template.yaml, EvidenceSignerPolicy).
    """

    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self._key = key
        self._arn: str | None = None
        self._public: bytes | None = None

    def _describe(self) -> tuple[str, bytes]:
        if self._arn is None or self._public is None:
            try:
                # DescribeKey for the ARN (GetPublicKey answers an alias with the bare key id on some
                # endpoints), GetPublicKey for the key itself.
                metadata = self._client.describe_key(KeyId=self._key)["KeyMetadata"]
                if metadata.get("KeySpec") != KEY_SPEC or SIGNING_ALGORITHM not in metadata.get(
                    "SigningAlgorithms", []
                ):
                    raise SigningUnavailableError(
                        f"the evidence key must be {KEY_SPEC} with {SIGNING_ALGORITHM} (KeyUsage SIGN_VERIFY)"
                    )
                answer = self._client.get_public_key(KeyId=metadata["Arn"])
            except (ClientError, BotoCoreError) as exc:
                raise SigningUnavailableError(f"KMS key unusable ({_code(exc)})") from None
            self._arn, self._public = str(metadata["Arn"]), bytes(answer["PublicKey"])
        return self._arn, self._public

    @property
    def key_id(self) -> str:
        return self._describe()[0]

    def public_key_der(self) -> bytes:
        return self._describe()[1]

    def sign(self, message: bytes) -> bytes:
        arn, _ = self._describe()
        try:
            answer = self._client.sign(
                KeyId=arn, Message=message, MessageType="RAW", SigningAlgorithm=SIGNING_ALGORITHM
            )
        except (ClientError, BotoCoreError) as exc:
            raise SigningUnavailableError(f"KMS Sign failed ({_code(exc)})") from None
        return bytes(answer["Signature"])


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__
