"""The overview numbers (ApexAPI's connection check calls this)."""
