"""The local stack configured like a deployment, the way `sam local` does it.

  --parameter-overrides Key=Value ...   template parameter names (as `sam deploy`/`sam local`)
  --config-env NAME                     `parameter_overrides` of [NAME.deploy.parameters] in samconfig.toml
  --env-vars FILE                       SAM's JSON: {"Parameters": {VAR: value}, "<LogicalId>": {VAR: value}};
                                        as in SAM, only variables the template declares are set

Precedence, lowest first: template defaults < --config-env < --parameter-overrides; then --env-vars
replaces the resolved variables of the functions it names.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicetrail_cli.failures import CliError
from voicetrail_cli.ops.template import REPO_ROOT

SAMCONFIG = REPO_ROOT / "samconfig.toml"


def parse_overrides(tokens: Iterable[str]) -> dict[str, str]:
    """`Key=Value` pairs; each token may itself hold several, space-separated and quoted as in SAM."""
    pairs: dict[str, str] = {}
    for token in tokens:
        for part in shlex.split(token):
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise CliError(f"--parameter-overrides: {part!r} is not Key=Value")
            pairs[key] = value
    return pairs


def config_env_overrides(env: str, path: Path = SAMCONFIG) -> dict[str, str]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"--config-env {env}: {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path} is not valid TOML: {exc}") from None
    environments = sorted(k for k, v in document.items() if isinstance(v, dict))
    if env not in environments:
        raise CliError(f"--config-env {env!r}: {path.name} has the environments {', '.join(environments)}")
    section = document[env]
    raw = section.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    if isinstance(raw, list):
        raw = " ".join(str(r) for r in raw)
    return parse_overrides([str(raw)]) if raw else {}


def validate_parameters(overrides: Mapping[str, str], template: Mapping[str, Any]) -> None:
    declared = template.get("Parameters", {})
    for key, value in overrides.items():
        spec = declared.get(key)
        if spec is None:
            names = ", ".join(sorted(declared))
            raise CliError(f"unknown template parameter {key!r}: the template's parameters are {names}")
        allowed = spec.get("AllowedValues")
        if allowed and value not in [str(a) for a in allowed]:
            raise CliError(f"{key}={value!r} is not allowed: use one of {', '.join(str(a) for a in allowed)}")


def load_env_vars(path: Path) -> dict[str, dict[str, str]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"--env-vars: {path} not found") from None
    except ValueError:
        raise CliError(f'--env-vars: {path} is not JSON (SAM\'s format: {{"Parameters": {{...}}}})') from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise CliError(f'--env-vars: {path} must map "Parameters" or function logical ids to {{VAR: value}}')
    return {str(k): {str(n): str(v) for n, v in vars_.items()} for k, vars_ in document.items()}


@dataclass(frozen=True)
class StackSettings:
    """What the local stack is configured with, beyond the template's defaults."""

    parameters: dict[str, str] = field(default_factory=dict)
    env_vars: dict[str, dict[str, str]] = field(default_factory=dict)
    public_base_url: str | None = None

    def function_env_vars(self, logical_id: str, name: str, declared: Iterable[str]) -> dict[str, str]:
        """--env-vars for one function: "Parameters" for all, then its own block; declared names only."""
        names = set(declared)
        chosen = {**self.env_vars.get("Parameters", {}), **self.env_vars.get(logical_id, {})}
        chosen.update(self.env_vars.get(name, {}))
        return {k: v for k, v in chosen.items() if k in names}


def stack_settings(
    *,
    template: Mapping[str, Any],
    parameter_overrides: Iterable[str] = (),
    config_env: str | None = None,
    env_vars: Path | None = None,
    public_base_url: str | None = None,
) -> StackSettings:
    parameters = config_env_overrides(config_env) if config_env else {}
    parameters.update(parse_overrides(parameter_overrides))
    validate_parameters(parameters, template)
    if public_base_url is not None and not public_base_url.startswith(("https://", "http://")):
        raise CliError(f"--public-base-url {public_base_url!r}: give the URL Twilio calls, https://...")
    return StackSettings(
        parameters=parameters,
        env_vars=load_env_vars(env_vars) if env_vars else {},
        public_base_url=public_base_url.rstrip("/") if public_base_url else None,
    )
