"""ElevenLabs Agents: post-call webhook verifier, event models, semantic keys and the conversation deleter."""
