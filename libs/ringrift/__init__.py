"""RingRift training loop: the shared library every service stands on.

Subpackages (one concept each): ``game`` (rules engine), ``encoding`` (state and
move tensors), ``models`` (networks and the one model loader), ``search``,
``training``, ``events`` (Kafka backbone and generated protobuf messages),
``storage`` (database sessions and the artifact store), ``telemetry`` (logging
and metrics) and ``cli`` (the ``ringrift`` command).
"""

__version__ = "0.1.0"
