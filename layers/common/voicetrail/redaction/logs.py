"""What the log redactor keeps readable: machine tokens an operator debugs with.

Error codes and exception classes ("ValidationException", "ClientError"), AWS operation and IAM action
names ("PutItem", "ssm:GetParameter"), ARNs, regions and AWS endpoints, Python paths
("botocore.exceptions.ClientError"), code identifiers (snake_case, lowerCamel, kebab-case message types
and resource names) are never a caller's name or place. A name or location finding that lies inside such
a token is dropped, and so is any finding inside an ARN, an AWS endpoint or a region (an account ID is not
caller data). In a value that holds such tokens (an operator message, written by code), a name that the
tagger alone found in lower case, or made only of words SDK and runtime messages use ("endpoint URL",
"parameter Key"), is dropped too: code writes names cased. Numbers, cards, e-mails and the rest stay
redacted wherever they are, and so does everything outside these tokens: caller content in a log value
is redacted as anywhere else, and a value with no machine token (a transcript, a caller field) is
redacted exactly as `redact` does.

Trade-off: inside an operator message, a caller's name written as a code identifier ("maria_gonzalez",
"mariaGonzalez"), or in lower case and found by the tagger alone, is kept. Speech and chat do not produce
those shapes in operator messages; an upstream system echoing a username can.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

# (start, end, kind, priority), as the detection pipeline returns them.
_Span = tuple[int, int, str, int]

_AWS_SHAPES = (
    r"\barn:[\w-]+:[\w-]*:[\w-]*:\d*:[\w/.:*@+=,-]+"
    r"|\bhttps?://[\w.-]+\.amazonaws\.com(?:\.cn)?\b[\w/.-]*"
    r"|\b[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)"
    r"-\d\b"
)
_CODE_SHAPES = (
    # IAM actions and service-qualified codes ("ssm:GetParameter", "AWS.SimpleQueueService.NonExistentQueue")
    r"\b[a-z0-9-]+:[A-Z][A-Za-z0-9]+\b"
    # dotted paths ("botocore.exceptions.ClientError", "Runtime.ImportModuleError")
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b(?=[^@\w]|$)"
    # snake_case and SCREAMING_CASE identifiers
    r"|\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b"
    # lowerCamel ("tableName", "inboundPhoneCall")
    r"|\b[a-z]+(?:[A-Z][a-z0-9]*)+\b"
    # error and exception classes ("ValidationException", "NoSuchKey" is caught by the humps below)
    r"|\b[A-Z][A-Za-z0-9]*(?:Exception|Error|Exceeded|Fault|Failure|Timeout|Warning|Denied|NotFound|Conflict"
    r"|InProgress|Expired|Invalid|Unavailable|Type|Id|Key|Name|Code|Config|Settings|Handler|Service|Client)\b"
    # API operations ("PutItem", "GetParameter", "BatchWriteItem")
    r"|\b(?:Get|Put|Delete|Update|Batch|Transact|List|Describe|Create|Send|Publish|Invoke|Start|Stop|Assume"
    r"|Decrypt|Encrypt|Generate|Receive|Query|Scan|Tag|Untag|Head|Copy|Upload|Run|Execute|Change|Rotate|Restore"
    r"|Set|Add|Remove|Purge|Import|Export|Enable|Disable)(?:[A-Z][a-z0-9]+)+\b"
    # UpperCamel of three humps or more ("NoSuchKey", "ResourceNotFound"); two-hump names stay names
    # ("McDonald", "DeShawn")
    r"|\b(?:[A-Z][a-z0-9]+){3,}\b"
    # kebab-case enums and resource names ("end-of-call-report", "voicetrail-calls")
    r"|\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b"
)
_PATTERNS: tuple[re.Pattern[str], re.Pattern[str]] | None = None  # compiled on first use, not at cold start
_READABLE_KINDS = frozenset({"name", "location"})
# Words of SDK, runtime and Powertools messages that the name tagger can take for a name in a log line.
_OPERATOR_WORDS = frozenset(
    {
        "url", "uri", "arn", "id", "key", "type", "table", "item", "items", "parameter", "parameters",
        "endpoint", "value", "module", "class", "handler", "request", "response", "status", "none", "null",
        "true", "false", "json", "http", "https", "api", "sdk", "aws", "lambda", "runtime", "task",
        "function", "queue", "topic", "bucket", "object", "secret", "index", "partition", "sort", "schema",
        "event", "payload", "body", "header", "headers", "token", "signature", "webhook", "operation",
        "error", "exception", "retry", "retries", "timeout", "message", "code", "region", "role", "policy",
        "user", "account", "stage", "service", "client", "resource", "condition", "expression", "attribute",
        "attributes",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")
_CUE_PRIORITY = 70  # names found after a cue ("my name is ...") have this priority; the tagger's are lower


def _ranges(regex: re.Pattern[str], text: str) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for m in regex.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


def _inside(starts: list[int], ends: list[int], a: int, b: int) -> bool:
    k = bisect_right(starts, a) - 1
    return k >= 0 and ends[k] >= b


def keep_machine_tokens(text: str, spans: Sequence[_Span]) -> list[_Span]:
    """The findings of a log value less those inside machine tokens (see the module docstring)."""
    if not spans:
        return list(spans)
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = (re.compile(_AWS_SHAPES), re.compile(_CODE_SHAPES))
    aws = _ranges(_PATTERNS[0], text)
    code = _ranges(_PATTERNS[1], text)
    operator_message = bool(aws[0] or code[0])
    return [
        s
        for s in spans
        if not _inside(*aws, s[0], s[1])
        and not (
            s[2] in _READABLE_KINDS
            and (
                _inside(*code, s[0], s[1]) or (operator_message and _operator_words(text[s[0] : s[1]], s[3]))
            )
        )
    ]


def _operator_words(found: str, priority: int) -> bool:
    """A name the tagger (not a cue such as "my name is") found in a log line that is lower case, or made
    of the words SDK and runtime messages use: log lines are written by code, and code writes names cased."""
    if priority >= _CUE_PRIORITY:
        return False
    words = _WORD.findall(found)
    return not any(c.isupper() for c in found) or all(w.lower() in _OPERATOR_WORDS for w in words)
