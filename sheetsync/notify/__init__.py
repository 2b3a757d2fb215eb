"""Notifications: who hears about what (pure builders), the outbox that remembers it, and the sender.

`build` and `leads` are pure: rows and settings in, messages out. `outbox` keeps every delivery in local
state so nothing is sent twice; `send` is the thin apprise adapter; `notifier` ties them to the sync.
"""
