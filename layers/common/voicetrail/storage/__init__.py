"""The DynamoDB adapters: the only package that knows the table's keys and item shapes.

`table` is the data model (item types, keys, indexes, retention); one adapter per aggregate implements a
domain port (`dynamo` for events, `ledger`, `live`, `names`, `audit`, `purge`, `erasure`, `topology`,
`dnc`, `pepper`), with `batch` and `expressions` shared. In-memory twins live in `tests/support`.
"""
