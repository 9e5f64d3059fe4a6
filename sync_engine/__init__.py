"""ApexAPI's engine, GUI-free: config, Apex Trading and tracker clients, product mapping and
the batch inventory sync. It speaks to PreRollTracker only over HTTP."""
