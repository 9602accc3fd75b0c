"""Fixtures shared by every test tier.

Tiers are folders: ``tests/unit`` starts no process; ``tests/integration`` talks to
a real Kafka broker and a real PostgreSQL server started by the project's own
launchers (``ringrift.localinfra``), or to the ones named by
``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` (and to a real S3-compatible server,
versitygw, for the object store). Each area keeps its fixtures in
its own module under ``tests/fixtures/``.
"""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.services",
    "tests.fixtures.deploy",
]
