"""voicetrail: authenticate, redact and store voice-AI webhooks exactly once."""

__version__ = "0.1.0"
