"""Local infrastructure for tests and one-machine runs: a real Kafka broker and PostgreSQL.

Neither is a stand-in: ``kafka`` assembles Apache Kafka from its Maven Central jars
and runs a single KRaft node on loopback; ``postgres`` runs a PostgreSQL server from
Debian's packages (installing them if missing). Clusters point the services at
their own broker and database instead.
"""
