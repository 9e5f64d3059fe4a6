"""Pure planners: a snapshot in, the actions to take out (docs/apexapi.md)."""
