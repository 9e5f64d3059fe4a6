"""The Google Sheets simulator: enough of the Sheets v4 API for the real gspread client."""

from simulators.sheets.app import SheetsState, create_sheets_app

__all__ = ["SheetsState", "create_sheets_app"]
