"""Reads template.yaml so the local stack cannot drift from what SAM deploys.

The table is created from the template's AWS::DynamoDB::Table, routes come from HttpApi events,
and each function's environment is the template's, with AWS-only values replaced by local ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form intrinsics as {"Fn::X": value} dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    # `!Ref` and `!Condition` have no `Fn::` in their long form.
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError("template.yaml is not a mapping")
    return document


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # the folder name under functions/, e.g. vapi_webhook
    code_dir: Path
    handler: str  # module.function
    environment: dict[str, Any] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}


def functions(template: dict[str, Any], root: Path = REPO_ROOT) -> list[FunctionSpec]:
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    specs = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        code_dir = (root / props["CodeUri"]).resolve()
        env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
        routes = tuple(
            Route(
                method=str(ev["Properties"]["Method"]).upper(),
                path=ev["Properties"]["Path"],
                function=code_dir.name,
            )
            for ev in props.get("Events", {}).values()
            if ev.get("Type") == "HttpApi"
        )
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                name=code_dir.name,
                code_dir=code_dir,
                handler=props["Handler"],
                environment=env,
                routes=routes,
            )
        )
    return specs


def table_definition(template: dict[str, Any], table_name: str) -> tuple[dict[str, Any], str | None]:
    """create_table kwargs and the TTL attribute, from the template's events table."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ttl = props.get("TimeToLiveSpecification", {})
        return kwargs, ttl.get("AttributeName") if ttl.get("Enabled") else None
    raise ValueError("template.yaml has no AWS::DynamoDB::Table")


def resolve_local_env(
    raw_env: dict[str, Any], *, parameters: dict[str, str], overrides: dict[str, str]
) -> dict[str, str]:
    """The template's env values for a local run: !Ref parameters -> defaults, AWS refs -> overrides."""
    env: dict[str, str] = {}
    for name, value in raw_env.items():
        if name in overrides:
            env[name] = overrides[name]
        elif isinstance(value, dict) and "Ref" in value and value["Ref"] in parameters:
            env[name] = parameters[value["Ref"]]
        elif isinstance(value, str | int | float):
            env[name] = str(value)
        elif name.endswith("_REF"):
            # A secret in AWS; locally it comes from an environment variable of the local stack.
            env[name] = f"env:VOICETRAIL_LOCAL_{name.removesuffix('_REF')}"
    return env
