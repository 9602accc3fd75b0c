"""The event backbone: schemas, the topic registry, publishing and the consumer loop.

* :mod:`~ringrift.events.topics` — every topic, its key, type, layout, producers, consumers
* :mod:`~ringrift.events.envelope` — events in and out of the envelope
* :mod:`~ringrift.events.producer` — idempotent, acknowledged publishing
* :mod:`~ringrift.events.consumer` — the at-least-once consumer loop every service runs
* :mod:`~ringrift.events.idempotency` — processed event ids, so a redelivery changes nothing
* :mod:`~ringrift.events.deadletter` — dead letters: write, list, replay
* :mod:`~ringrift.events.provision` — create the topics from the registry
* ``gen/`` — code generated from ``proto/`` by ``make proto``; never edit it
"""
