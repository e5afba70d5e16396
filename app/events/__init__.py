"""Webhooks okrsync sends to subscribers when progress moves.

Events are written to an outbox in the transaction that stores the change,
serialized once, and sent by a background sender signed as Standard Webhooks
describes, retried on a schedule until delivered or given up.
"""
