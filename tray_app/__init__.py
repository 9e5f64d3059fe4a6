"""ApexAPI's shell: the ``apexapi`` command (headless now; tray icon and window in issue 6)."""
