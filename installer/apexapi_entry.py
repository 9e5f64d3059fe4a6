"""PyInstaller's entry script for ApexAPI.exe and the Linux bundle: ``apexapi`` itself."""

import sys

from tray_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
