"""Sync: plan distinct upstream queries, fetch each once, store the results."""
