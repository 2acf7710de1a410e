"""Job A, usage collection: the kinds catalog (`kinds.py`), one collector module per kind (`collectors/`), the
runner that fans out accounts x regions x kinds, gaps, backfill from bills, import/export of items."""
