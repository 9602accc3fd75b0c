"""Durable state: database engines and sessions, migrations, the artifact store."""
