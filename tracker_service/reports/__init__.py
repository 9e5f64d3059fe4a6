"""Reports for the people who run the floor: production, stock on a date, the audit log."""
