"""Test doubles that misbehave on purpose: a fault-injecting DynamoDB client, fake Twilio and Vapi servers."""
