"""The provider-neutral domain: each feature's types, rules and ports (the interfaces storage implements).

Nothing here imports `voicetrail.storage`, a provider package, boto3, httpx or twilio: adapters implement
these ports, and `voicetrail.wiring` puts them together.
"""
