"""Lint the template the way CloudFormation will see it: expanded by SAM's translator, offline.

`sam validate --lint` lints the SAM template, where the generated resources (the HTTP API body, stages,
permissions, roles) do not exist yet, so it cannot see, for example, a circular dependency through the
API's body. This script:

1. expands template.yaml with samtranslator (the translator inside the SAM CLI), with no AWS account and
   no network, once per parameter set in PARAMETER_SETS (SAM resolves some parameters while expanding);
2. lints every expansion with cfn-lint plus the AWS serverless rules (cfn-lint-serverless) and with checkov;
3. fails on every finding that tools/template-lint-skips.yaml does not skip with a reason, and on every skip
   that no longer matches anything (a stale skip hides the next real finding).

It first proves that the check still works: a known-circular fixture must be reported (E3004).

Run with the lint virtualenv (requirements/lint.txt): `make lint-template`.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SKIPS = ROOT / "tools" / "template-lint-skips.yaml"
CIRCULAR_FIXTURE = ROOT / "tests" / "fixtures" / "templates" / "circular.yaml"
REGION = "us-west-2"  # samconfig.toml's region; the translator needs one to build ARNs

# Every optional parameter off (the defaults), then every one of them on.
PARAMETER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "all-options": {
        "Environment": "prod",
        "EnableTracing": "true",
        "EnableSnapStart": "true",
        "EnableComprehendPass": "true",
        "VapiAuthScheme": "hmac",
        "TwilioWebhookBaseUrl": "https://hooks.example.com/voice",
        "TwilioAccountSid": "AC" + "0" * 32,
        "LiveConfigSource": "ssm",
        "AlarmEmail": "ops@example.com",
        "KmsKeyArn": "arn:aws:kms:us-west-2:111122223333:key/11111111-2222-3333-4444-555555555555",
        "PurgeSchedule": "rate(1 hour)",
        "EnableRetell": "true",
        "EnableElevenLabs": "true",
        "ElevenLabsKeepAudio": "true",
    },
}


@dataclass
class Finding:
    tool: str
    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.tool} {self.rule} {self.resource}: {self.message}"


@dataclass
class Skip:
    tool: str
    rule: str
    resources: list[str]
    reason: str
    used: int = 0

    def matches(self, finding: Finding) -> bool:
        if finding.tool != self.tool or finding.rule != self.rule:
            return False
        return not self.resources or any(fnmatch.fnmatchcase(finding.resource, r) for r in self.resources)


class _NoManagedPolicies:
    """The translator asks IAM for managed-policy ARNs only when a policy is named; ours are inline."""

    def load(self) -> dict[str, str]:
        return {}


def expand(template_path: Path, parameters: dict[str, str]) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(template_path.read_text())
    # `sam package` would put local code on S3 first; the translator only accepts S3 locations.
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = "s3://artifacts/" + props[key].strip("/")
    expanded: dict[str, Any] = transform(copy.deepcopy(template), parameters, _NoManagedPolicies())
    return expanded


def run_cfn_lint(path: Path) -> list[Finding]:
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--format",
            "json",
            "--regions",
            REGION,
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        matches = json.loads(proc.stdout or "[]")
    except ValueError:
        raise SystemExit(f"cfn-lint failed to run:\n{proc.stdout}\n{proc.stderr}") from None
    findings = []
    for match in matches:
        path_parts = match.get("Location", {}).get("Path") or []
        resource = str(path_parts[1]) if len(path_parts) > 1 and path_parts[0] == "Resources" else "-"
        findings.append(Finding("cfn-lint", match["Rule"]["Id"], resource, match["Message"]))
    return findings


def run_checkov(path: Path) -> tuple[list[Finding], int]:
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("checkov")),
            "--file",
            str(path),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit(f"checkov failed to run:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}") from None
    if isinstance(report, list):
        report = report[0]
    results = report.get("results", {})
    findings = [
        Finding("checkov", check["check_id"], check["resource"].split(".", 1)[-1], check["check_name"])
        for check in results.get("failed_checks", [])
    ]
    return findings, len(results.get("passed_checks", []))


def load_skips() -> list[Skip]:
    import yaml

    raw = yaml.safe_load(SKIPS.read_text()) or {}
    skips = []
    for tool, entries in raw.items():
        for entry in entries or []:
            reason = str(entry.get("reason", "")).strip()
            if not reason:
                raise SystemExit(f"{SKIPS.name}: {tool} {entry.get('rule')} has no reason")
            skips.append(Skip(tool, str(entry["rule"]), list(entry.get("resources") or []), reason))
    return skips


def self_check(workdir: Path) -> None:
    """A template with a known circular dependency must fail: else this script proves nothing."""
    path = workdir / "circular.json"
    path.write_text(json.dumps(expand(CIRCULAR_FIXTURE, {})))
    rules = {f.rule for f in run_cfn_lint(path)}
    if "E3004" not in rules:
        raise SystemExit(f"self-check failed: the circular fixture was not reported (got {sorted(rules)})")
    print("self-check: the circular fixture is reported (E3004)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--keep", type=Path, help="write the expanded templates into this directory")
    args = parser.parse_args()

    skips = load_skips()
    failures: list[Finding] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        self_check(workdir)
        for name, parameters in PARAMETER_SETS.items():
            path = workdir / f"expanded-{name}.json"
            expanded = expand(args.template, parameters)
            path.write_text(json.dumps(expanded, indent=1))
            lint = run_cfn_lint(path)
            checkov, passed = run_checkov(path)
            counts = {"cfn-lint": [0, 0], "checkov": [0, 0]}  # [failed, skipped]
            for finding in lint + checkov:
                skip = next((s for s in skips if s.matches(finding)), None)
                if skip is None:
                    failures.append(finding)
                    counts[finding.tool][0] += 1
                    print(f"[{name}] FAIL {finding}")
                else:
                    skip.used += 1
                    counts[finding.tool][1] += 1
            (lint_failed, lint_skipped), (checkov_failed, checkov_skipped) = counts.values()
            print(
                f"[{name}] {len(expanded['Resources'])} resources after the SAM transform | "
                f"cfn-lint+serverless rules: {lint_failed} failed, {lint_skipped} skipped | "
                f"checkov: {passed} passed, {checkov_failed} failed, {checkov_skipped} skipped"
            )
    stale = [s for s in skips if s.used == 0]
    for skip in stale:
        print(f"STALE skip (matches nothing, remove it): {skip.tool} {skip.rule} {skip.resources or '*'}")
    print(f"skips in use: {len(skips) - len(stale)} ({SKIPS.relative_to(ROOT)})")
    return 1 if failures or stale else 0


if __name__ == "__main__":
    sys.exit(main())
