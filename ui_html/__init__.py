"""The ApexAPI dashboard's static files (HTML, CSS, JS: no build step, nothing from a CDN).

Shipped as package data, so the dashboard finds them through the installed package, from a
source checkout, an installed wheel or the PyInstaller bundle alike.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["UI_DIR"]

#: The folder holding index.html, app.js, style.css and first_run.html.
UI_DIR = Path(str(files(__name__)))
