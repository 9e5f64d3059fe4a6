"""The dashboard server: ``ui_html/`` and a JSON/SSE API over the running engine, on
127.0.0.1 only, behind a secret made at each launch."""
