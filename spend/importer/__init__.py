"""Ledger-extract import: detect → map columns → validate every row → normalise → load.

- ``detect``: file name, kind, magic bytes, zip directory (bombs, DOCTYPE), encoding, separator
  (the checks themselves are shared: rfi.spreadsheet.checks)
- ``columns``: canonical columns, the Danish header aliases, the region's saved mappings
- ``parse``: chunks of raw text columns with spreadsheet row numbers (pyarrow, calamine)
- ``validate``: vectorised checks and normalisation of one chunk; every error collected
- ``load``: COPY (PostgreSQL) or executemany (SQLite), the region lock
- ``errors``: ImportRefused (rfi.spreadsheet's FileRefused) and the error report (rfi.spreadsheet.write)

The orchestration (batches, transactions, replacement) lives in ``spend.services``.
"""
