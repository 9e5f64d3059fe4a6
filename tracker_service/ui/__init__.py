"""The staff web UI: server-rendered pages with logins, roles and CSRF-protected forms."""
