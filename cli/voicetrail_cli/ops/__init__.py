"""Operator commands: what an operator runs against a deployment (local or AWS).

calls, evidence and audit, erase and purge (`compliance`), the ROI report, per-number configs, the
do-not-call list, request signing, and the stack's own description (template, stack config). Nothing here
imports the development harness (`voicetrail_cli.dev`).
"""
