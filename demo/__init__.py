"""``make demo``: PreRollTracker, the Apex Trading simulator and the headless ApexAPI engine."""
