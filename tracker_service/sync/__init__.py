"""What the ApexAPI sync engine talks to: change feed, sync lease and order-line sync."""
