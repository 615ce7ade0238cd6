"""The provider-neutral core every webhook event goes through, whichever platform sent it.

A provider adapter (`voicetrail.providers.<platform>`) authenticates and parses its request, then hands
the pipeline an `InboundEvent` and a `Sanitizer` for its payload shape. The pipeline's named steps
(`EventPipeline.process`): hash the caller, decide consent (asked only when caller content is present),
sanitise and redact, persist exactly once, apply the side effects of the event as stored (name memory,
redaction audit, the provider's own follow-ups), and count. See docs/concepts/architecture.md.
"""
