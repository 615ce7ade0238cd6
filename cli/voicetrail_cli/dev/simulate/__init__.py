"""`voicetrail simulate`: plan (`identities`, `plan`), signing and the HTTP driver (`driver`), read-back
(`readback`), evaluation and the report (`evaluate`), and the command (`command`).
"""
