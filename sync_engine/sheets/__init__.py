"""The packing list kept in Google Sheets (gspread) or a local Excel workbook (openpyxl)."""
