"""Use cases: capture, import, edit, forget, search, digest, workspace settings, index sync.

They own their transactions, call ``store.queries`` for every SQL statement, and never import
Slack (``slack_bolt``/``slack_sdk``): the same use case serves Slack, the CLI and the
scheduler.
"""
