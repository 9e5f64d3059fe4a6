"""Backups of the tracker database: taken online, checked, rotated; restored safely."""
