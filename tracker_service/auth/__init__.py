"""Who may call the tracker: the API key (machines) and user logins (staff)."""
