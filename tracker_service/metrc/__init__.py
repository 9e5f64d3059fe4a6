"""PreRollTracker ↔ METRC: the client, the pull, drift and the outbox (docs/metrc.md)."""
