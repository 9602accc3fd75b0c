"""Migration revisions, loaded by Alembic by path (this file makes them package data)."""
