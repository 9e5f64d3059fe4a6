"""Batch inventory sync: a pure planner, and an applier that performs and records the plan."""
