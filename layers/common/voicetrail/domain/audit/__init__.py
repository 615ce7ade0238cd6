"""The tamper-evident audit trail and evidence: records, their hash chain, and the port that stores them."""
