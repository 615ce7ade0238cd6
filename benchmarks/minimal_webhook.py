"""A typical Powertools webhook in ~30 lines: the peer that cold_init.py measures voicetrail against.

Resolver, Logger, Metrics, a pydantic model parsed with Powertools' parser, a DynamoDB Table resource. It
does far less than voicetrail (no authentication, redaction, idempotency or live call control).
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


class Call(BaseModel):
    id: str


class Message(BaseModel):
    type: str
    call: Call | None = None


class Envelope(BaseModel):
    message: Message


@app.post("/vapi/webhook")
def webhook() -> dict[str, Any]:
    message = parse(event=app.current_event.json_body, model=Envelope).message
    call_id = message.call.id if message.call else "none"
    request_id = app.current_event.request_context.request_id
    table.put_item(Item={"pk": f"CALL#{call_id}", "sk": f"EVT#{request_id}"})
    metrics.add_metric(name="WebhookRequests", unit=MetricUnit.Count, value=1)
    return {}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
