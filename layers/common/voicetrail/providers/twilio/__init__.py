"""Twilio voice status and recording callbacks."""
