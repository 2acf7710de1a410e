"""Report builders (Excel workbooks via XlsxWriter, imported inside the builders) and their delivery."""
