"""X-Twilio-Signature checks with twilio's own RequestValidator, and the quirks around it.

* The URL is the configured public base URL (exactly what is set in Twilio: custom domain, stage,
  base path) + the request path + the raw query string. Never a URL rebuilt from the event: stages,
  custom domains and proxies change it.
* `#...` connection-override fragments are not signed by Twilio: stripped from the base URL.
* When the base URL's path is already the start of the request path (HTTP API non-default stages and
  custom-domain mappings put it in `rawPath`), it is not repeated.
* Port variants (`:443`/`:80` or none) are RequestValidator's business: it tries both.
* Form bodies are parsed with blank values kept (a dropped `CallerCity=` breaks the signature) and
  repeated keys kept (RequestValidator reads them through `getall`).
* Several tokens may be active during a rotation: any of them validates.
* `X-Twilio-Webhooks-Signature-Settings: algorithm=HMAC_SHA256` selects HMAC-SHA256; an unknown
  algorithm is a rejection (401), decided here before twilio would log the header's value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from voicetrail.errors import AuthFailure, BadRequestError

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
ALGORITHMS = frozenset({"HMAC_SHA1", "HMAC_SHA256"})
MAX_FIELDS = 500


class FormParams(Mapping[str, str]):
    """Form fields in arrival order. `[name]` is the first value; `getall` every value (for the validator)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> str:
        return self._values[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getall(self, key: str) -> list[str]:
        return list(self._values[key])


def parse_form(body: bytes) -> FormParams:
    """application/x-www-form-urlencoded -> FormParams. Anything else is a 400."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError("body is not a form") from None
    return FormParams(pairs)


def normalize_base_url(base_url: str) -> str:
    """Drop a `#fragment` (connection overrides are never signed) and a trailing slash."""
    return base_url.split("#", 1)[0].strip().rstrip("/")


def public_url(base_url: str, path: str, raw_query: str) -> str:
    """The URL Twilio requested: configured base + path (without repeating a shared prefix) + query."""
    parts = urlsplit(normalize_base_url(base_url))
    prefix = parts.path.rstrip("/")
    request_path = path if path.startswith("/") else "/" + path
    if prefix and not (request_path == prefix or request_path.startswith(prefix + "/")):
        request_path = prefix + request_path
    return urlunsplit((parts.scheme, parts.netloc, request_path, raw_query, ""))


def signature_algorithm(headers: Mapping[str, str]) -> str | None:
    """HMAC_SHA1 unless the settings header names another algorithm; None if that one is unknown."""
    from twilio.request_validator import get_signature_algorithm

    algorithm = str(get_signature_algorithm(headers.get(SETTINGS_HEADER, ""))).upper()
    return algorithm if algorithm in ALGORITHMS else None


def verify(
    *,
    url: str,
    params: FormParams,
    signature: str,
    algorithm: str,
    tokens: Sequence[str],
) -> AuthFailure | None:
    """None when any active token validates the request, else why not."""
    from twilio.request_validator import RequestValidator

    if not signature:
        return AuthFailure.MISSING
    for token in tokens:
        if RequestValidator(token).validate(url, params, signature, algorithm=algorithm):
            return None
    return AuthFailure.INVALID
