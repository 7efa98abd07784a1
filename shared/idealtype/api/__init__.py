"""The HTTP API (FastAPI): app factory, schemas, error contract, settings, index cache."""
