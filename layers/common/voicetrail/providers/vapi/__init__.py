"""Vapi server-message webhooks: authentication, parsing, idempotency, sanitising, processing."""
