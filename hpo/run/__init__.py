"""One cell in its process: the search, the record, the store, progress, tracking, provenance."""
