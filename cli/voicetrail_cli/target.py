"""Which deployment an operator command talks to: one set of options, one resolution.

--stack NAME            the table, URLs and secret ARNs come from the stack's outputs
--table / VOICETRAIL_TABLE
--dynamodb-endpoint     a local stack (`voicetrail serve`); only then does the table default to
                        the local table's name. Against AWS there is no default: a wrong default table
                        would silently read nothing.
--region                for the stack, DynamoDB and SigV4 (else AWS_REGION / the profile's region)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from voicetrail_cli.failures import CliError
from voicetrail_cli.timerange import HELP_SINCE, HELP_UNTIL

TABLE_ENV = "VOICETRAIL_TABLE"
STACK_ENV = "VOICETRAIL_STACK"
LOCAL_TABLE = "voicetrail-local"  # the table `voicetrail serve` creates

TableOpt = Annotated[
    str | None,
    typer.Option("--table", envvar=TABLE_ENV, help="Events table (stack output EventsTableName)."),
]
StackOpt = Annotated[
    str | None,
    typer.Option(
        "--stack", envvar=STACK_ENV, help="Read table, URLs and secret ARNs from this stack's outputs."
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--dynamodb-endpoint", envvar="AWS_ENDPOINT_URL_DYNAMODB", help="DynamoDB endpoint (a local stack)."
    ),
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: AWS_REGION / profile).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SinceOpt = Annotated[str, typer.Option(help=HELP_SINCE)]
UntilOpt = Annotated[str | None, typer.Option(help=HELP_UNTIL)]
NowOpt = Annotated[float | None, typer.Option("--now", hidden=True, help="Epoch seconds (tests).")]
PepperOpt = Annotated[
    str | None,
    typer.Option(
        envvar="HASH_PEPPER_REF",
        help="Pepper ref: secretsmanager:<arn>|ssm:<name>|env:<VAR> (stack output HashPepperSecretArn).",
    ),
]


def dynamodb_admin_client(endpoint: str | None) -> Any:
    """A DynamoDB client for a local endpoint (moto's fake credentials, short timeouts) or for AWS."""
    import boto3
    from botocore.config import Config

    if endpoint:
        # A local endpoint answers at once or not at all: fail in seconds, not after DynamoDB's 10 retries.
        return boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            config=Config(
                connect_timeout=2, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}
            ),
        )
    return boto3.client("dynamodb")


def stack_outputs(stack: str, region: str | None) -> dict[str, str]:
    """The outputs of a CloudFormation stack, by OutputKey."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("cloudformation", region_name=region)
    try:
        stacks = client.describe_stacks(StackName=stack).get("Stacks", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            where = region or client.meta.region_name
            raise CliError(f"stack {stack!r} not found in {where}: check --stack and --region") from None
        raise
    if not stacks:
        raise CliError(f"stack {stack!r} not found: check --stack and --region")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", []) if "OutputKey" in o}


@dataclass(frozen=True)
class Deployment:
    table: str
    dynamodb_endpoint: str | None = None
    region: str | None = None
    stack: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return self.dynamodb_endpoint is not None

    def dynamodb(self) -> Any:
        if self.dynamodb_endpoint:
            return dynamodb_admin_client(self.dynamodb_endpoint)
        import boto3

        return boto3.client("dynamodb", region_name=self.region)

    def s3(self) -> Any:
        """An S3 client: the local stack's (its moto server serves S3 at the same endpoint) or AWS's."""
        import boto3

        if self.dynamodb_endpoint:
            return boto3.client(
                "s3",
                endpoint_url=self.dynamodb_endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            )
        return boto3.client("s3")

    def output(self, key: str) -> str | None:
        return self.outputs.get(key)

    def secret_ref(self, output_key: str) -> str | None:
        """`secretsmanager:<arn>` for a secret ARN output of the stack, else None."""
        arn = self.outputs.get(output_key)
        return f"secretsmanager:{arn}" if arn else None


def resolve(
    *,
    table: str | None,
    dynamodb_endpoint: str | None,
    stack: str | None,
    region: str | None,
) -> Deployment:
    outputs: dict[str, str] = stack_outputs(stack, region) if stack else {}
    chosen = table or outputs.get("EventsTableName")
    if stack and not chosen:
        raise CliError(f"stack {stack!r} has no EventsTableName output: is it a voicetrail stack?")
    if not chosen:
        if dynamodb_endpoint:
            chosen = LOCAL_TABLE
        else:
            raise CliError(
                f"which deployment? pass --stack NAME, --table NAME (or set {TABLE_ENV}), "
                "or --dynamodb-endpoint URL for a local stack"
            )
    return Deployment(
        table=chosen,
        dynamodb_endpoint=dynamodb_endpoint,
        region=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        stack=stack,
        outputs=outputs,
    )


def secret_resolver(ref: str | None) -> Any:
    """A resolver for `secretsmanager:<arn>|ssm:<name>|env:<VAR>` (env: allowed here: it is your shell)."""
    if not ref:
        return None
    from voicetrail.errors import ConfigurationError
    from voicetrail.infra.secrets import SecretRef, SecretResolver

    try:
        parsed = SecretRef.parse(ref, allow_env=True)
    except ConfigurationError:
        raise CliError("not a secret ref: use secretsmanager:<arn>, ssm:<name> or env:<VAR>") from None
    return SecretResolver(parsed, max_age=0)
