"""Live call control: acting during a Vapi call, within Vapi's real contract.

* `assistant-request` -> a compliance-aware assistant built from per-number configuration;
* `tool-calls` -> results in call order, each tool call's side effect done once;
* `transfer-destination-request` -> the configured human destination;
* a per-call consent state machine and barge-in escalation, acting through Live Call Control
  (`call.monitor.controlUrl`).

Module-level imports here stay light on purpose: `voicetrail.providers.vapi.live_runtime` is imported on the
vapi_webhook cold-start path, and httpx is only imported when a control request is actually sent.
"""
