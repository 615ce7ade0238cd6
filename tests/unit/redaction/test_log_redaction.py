"""The log redactor keeps what an operator debugs with and still redacts what a caller said.

The messages are written in the shapes botocore, the Lambda runtime and Powertools produce, with error
codes from the AWS API references' error lists (DynamoDB, SSM, Secrets Manager, KMS, SQS, S3, STS,
Lambda) and botocore's own exception classes.
"""

from __future__ import annotations

import pytest

from voicetrail.redaction import redact_log_value
from voicetrail.redaction.logs import keep_machine_tokens

pytestmark = pytest.mark.unit

# Every message here holds no caller data: it must come out unchanged.
MACHINE_MESSAGES = [
    "put_item failed: ValidationException",
    "An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: "
    "The conditional request failed",
    "An error occurred (ProvisionedThroughputExceededException) when calling the BatchWriteItem operation "
    "(reached max retries: 9): The level of configured provisioned throughput for the table was exceeded.",
    "An error occurred (TransactionCanceledException) when calling the TransactWriteItems operation: "
    "Transaction cancelled, please refer cancellation reasons for specific reasons "
    "[ConditionalCheckFailed, None]",
    "An error occurred (ItemCollectionSizeLimitExceededException) when calling the UpdateItem operation: "
    "Collection size exceeded.",
    "An error occurred (RequestLimitExceeded) when calling the Query operation: Throughput exceeds the "
    "current throughput limit for your account.",
    "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: Requested "
    "resource not found: Table: voicetrail-calls not found",
    "An error occurred (ValidationException) when calling the Query operation: One or more parameter values "
    "were invalid: Condition parameter type does not match schema type",
    "An error occurred (ThrottlingException) when calling the GetParameter operation "
    "(reached max retries: 4): Rate exceeded",
    "An error occurred (ParameterNotFound) when calling the GetParameter operation: ",
    "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets "
    "Manager can't find the specified secret.",
    "An error occurred (DecryptionFailure) when calling the GetSecretValue operation: Secrets Manager can't "
    "decrypt the protected secret text using the provided KMS key.",
    "An error occurred (AccessDeniedException) when calling the Decrypt operation: User: "
    "arn:aws:sts::123456789012:assumed-role/voicetrail-webhook/fn is not authorized to perform: kms:Decrypt",
    "An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the SendMessage operation: "
    "The specified queue does not exist.",
    "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.",
    "An error occurred (ExpiredTokenException) when calling the AssumeRole operation: The security token "
    "included in the request is expired",
    "An error occurred (TooManyRequestsException) when calling the Invoke operation: Rate Exceeded.",
    "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
    "botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "
    '"https://dynamodb.us-east-1.amazonaws.com/"',
    'ReadTimeoutError: Read timeout on endpoint URL: "https://ssm.eu-west-2.amazonaws.com/"',
    "ParamValidationError: Parameter validation failed: Invalid type for parameter Key.pk, value: None, "
    "type: <class 'NoneType'>, valid types: <class 'str'>",
    "Task timed out after 3.00 seconds",
    "Runtime.ImportModuleError: Unable to import module 'app': No module named 'voicetrail'",
    "IdempotencyAlreadyInProgressError: Execution already in progress with idempotency key",
    "IdempotencyItemAlreadyExistsError",
    "SchemaValidationError: Failed schema validation",
    "KeyError: 'message_type'",
    "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'",
    "unhandled message type conversation-update",
    "status-update skipped: call not found",
    "vapi_webhook rejected: InvalidSignature",
    "ssm:GetParameters denied for arn:aws:ssm:us-east-1:123456789012:parameter/voicetrail/prod/pepper",
]


@pytest.mark.parametrize("message", MACHINE_MESSAGES)
def test_machine_messages_stay_readable(message: str) -> None:
    assert redact_log_value(message) == message


# (log value, what must stay, what must go): caller content inside an error message is still redacted.
MIXED = [
    (
        "ValidationException: caller said my name is Maria Gonzalez and my ssn is 123-45-6789",
        ["ValidationException"],
        ["Maria", "Gonzalez", "123-45-6789"],
    ),
    (
        "put_item failed for transcript: call me at 312-555-0188 thanks",
        ["put_item failed"],
        ["312-555-0188"],
    ),
    (
        "An error occurred (ValidationException) when calling the PutItem operation: Item size has exceeded "
        "the maximum allowed size; transcript: my card is 4111 1111 1111 1111",
        ["ValidationException", "PutItem"],
        ["4111 1111 1111 1111"],
    ),
    (
        "KeyError: 'Maria Gonzalez'",
        ["KeyError"],
        ["Maria Gonzalez"],
    ),
    (
        "unhandled message from maria.gonzalez@example.com",
        ["unhandled message from"],
        ["maria.gonzalez@example.com"],
    ),
    (
        "caller said: this is Maria Gonzalez, please call me back",
        ["caller said", "please call me back"],
        ["Maria", "Gonzalez"],
    ),
]


@pytest.mark.parametrize(("value", "kept", "gone"), MIXED)
def test_caller_content_in_log_values_is_still_redacted(value: str, kept: list[str], gone: list[str]) -> None:
    out = redact_log_value(value)
    assert isinstance(out, str)
    for part in kept:
        assert part in out, out
    for part in gone:
        assert part not in out, out


def test_nested_log_records_keep_codes_and_lose_caller_data() -> None:
    record = {
        "message_type": "end-of-call-report",
        "error": "KeyError: customer_name",
        "exception": ["botocore.exceptions.ClientError", "ThrottlingException"],
        "detail": "Maria Gonzalez called from 312-555-0188",
    }
    out = redact_log_value(record)
    assert isinstance(out, dict)
    assert out["message_type"] == "end-of-call-report"
    assert out["error"] == "KeyError: customer_name"
    assert out["exception"] == ["botocore.exceptions.ClientError", "ThrottlingException"]
    assert "Maria" not in out["detail"] and "312" not in out["detail"]


@pytest.mark.parametrize(
    ("text", "found", "kept"),
    [
        ("caller McDonald asked", "McDonald", True),  # two humps: a name, not a code
        ("caller DeShawn asked", "DeShawn", True),
        ("raised ThrottlingException", "ThrottlingException", False),
        ("key customer_name missing", "customer_name", False),
        ("User: arn:aws:sts::123456789012:assumed-role/x/fn", "123456789012", False),
        ("put_item failed for maria", "maria", False),  # operator message, lower case, tagger only
        ("caller maria asked", "maria", True),  # no machine token: redacted as anywhere else
        ("put_item failed, my name is maria", "maria", True),  # after a cue (priority 70)
    ],
)
def test_which_findings_a_log_line_drops(text: str, found: str, kept: bool) -> None:
    start = text.index(found)
    kind, priority = ("number", 60) if found.isdigit() else ("name", 70 if "name is" in text else 58)
    span = (start, start + len(found), kind, priority)
    assert (keep_machine_tokens(text, [span]) == [span]) is kept
