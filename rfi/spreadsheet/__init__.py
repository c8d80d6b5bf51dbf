"""Reading and writing CSV and .xlsx, in one place for every app.

- ``checks``: what is refused before a file is opened (disguised type, DOCTYPE/XXE,
  zip bombs, binary "CSV", path names)
- ``read``: decoding (UTF-8 with or without BOM, else Windows-1252), separator sniffing,
  the rows of a CSV or of a workbook
- ``write``: CSV and .xlsx writers with the one formula guard
- ``cells``: parsing a cell (dates) and the error types the importers share

Every file the application writes goes through ``write``; every upload it reads is
checked by ``checks`` first.
"""
