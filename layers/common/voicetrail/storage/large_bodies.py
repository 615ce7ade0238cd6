"""S3 adapter for event bodies too large for a DynamoDB item, even gzipped.

DynamoDB caps an item at 400 KB. An event whose gzipped body is over INLINE_LIMIT (a two-hour call's
end-of-call report with its messages and tool calls; a body of random text) is written here first, then
its item is written with `body_s3` (the object key) in place of `body_gz`:

  key = <retention class>/<sha256(pk#sk), 64 hex>.json.gz     (no call id, no caller data in the key)

  * encrypted with SSE-KMS (the deployment's key, else the AWS-managed `aws/s3` key);
  * the same retention: a lifecycle rule per class prefix expires objects when their items expire
    (template.yaml `LargeEventsBucket`), and erasure deletes a caller's objects with their items;
  * the same idempotency: one key per (pk, sk), so a resend overwrites the object with the same body and
    its item write is a duplicate.

A call's audio, when a deployment keeps it (ElevenLabs `post_call_audio`, storage.audio), lives in the same
bucket under the `recording` class: `recording/<sha256(pk#sk)>.mp3`, likewise free of caller data.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreRejectedError, StoreUnavailableError

# Gzipped bodies above this go to S3: the rest of an event item (keys, attributes, redaction counts)
# stays far below the 400 KB limit beside it.
INLINE_LIMIT = 300_000
_PERMANENT_S3 = frozenset({"InvalidArgument", "EntityTooLarge", "KeyTooLongError", "InvalidRequest"})


def object_key(retention_class: str, pk: str, sk: str) -> str:
    digest = hashlib.sha256(f"{pk}#{sk}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{retention_class}/{digest}.json.gz"


def audio_object_key(pk: str, sk: str, extension: str = "mp3") -> str:
    """The object of a kept-audio pointer item: derived from its keys, so whatever deletes the item (the
    purge, erasure) finds the object without reading the item."""
    digest = hashlib.sha256(f"{pk}#{sk}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"recording/{digest}.{extension}"


def _error(exc: ClientError | BotoCoreError, operation: str) -> StoreUnavailableError | StoreRejectedError:
    code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
    detail = f"s3 {operation} failed: {code or type(exc).__name__}"
    return StoreRejectedError(detail) if code in _PERMANENT_S3 else StoreUnavailableError(detail)


class S3BodyStore:
    def __init__(self, client: Any, bucket: str, *, kms_key_id: str | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def put(
        self, key: str, data: bytes, *, content_type: str = "application/json", encoding: str | None = "gzip"
    ) -> None:
        extra: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self._kms_key_id:
            extra["SSEKMSKeyId"] = self._kms_key_id
        if encoding:
            extra["ContentEncoding"] = encoding
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, **extra
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, "put_object") from None

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, "get_object") from None
        return body

    def delete(self, keys: list[str]) -> None:
        """Idempotent: an object already gone (lifecycle, an earlier run) is not an error."""
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            try:
                self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True})
            except (ClientError, BotoCoreError) as exc:
                raise _error(exc, "delete_objects") from None


def s3_client(region: str | None = None) -> Any:
    """A client of the process's shared session (voicetrail.infra.aws), tight timeouts included."""
    from voicetrail.infra import aws

    return aws.client("s3", region=region)
