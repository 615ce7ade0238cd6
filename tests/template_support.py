"""The dashboard body as CloudFormation assembles it: the template's `Fn::Join` of its `Fn::Sub` parts,
with each `Fn::If` part resolved for a set of true conditions."""

from __future__ import annotations

from typing import Any


def dashboard_body(template: dict[str, Any], conditions: frozenset[str] = frozenset()) -> str:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]
    separator, parts = body["Fn::Join"]
    text = []
    for part in parts:
        if isinstance(part, dict) and "Fn::If" in part:
            name, when_true, when_false = part["Fn::If"]
            part = when_true if name in conditions else when_false
        text.append(part["Fn::Sub"] if isinstance(part, dict) else part)
    return str(separator).join(text)
