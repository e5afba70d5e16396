"""Webhooks okrsync receives from GitHub and Jira.

A delivery is checked (size, signature over the raw body), recorded once by
its delivery id, matched to the key results it can affect, and those are
re-synced shortly after, many deliveries gathered into one re-sync.
"""
