"""The service runtime: what every service's ``main.py`` wires its handlers into.

* :mod:`~ringrift.service.names` — a service's derived names: group, env prefix, port, database
* :mod:`~ringrift.service.settings` — ``ServiceSettings`` and the shared groups it nests
* :mod:`~ringrift.service.flags` — flags generated from the settings; loading with clear errors
* :mod:`~ringrift.service.runtime` — ``ServiceRuntime``: tables, consumer, timers, source, run
* :mod:`~ringrift.service.hooks` — timers and sources (work that is not a consumed event)
* :mod:`~ringrift.service.health`, :mod:`~ringrift.service.probes` — liveness and readiness
* :mod:`~ringrift.service.http` — ``/healthz``, ``/readyz``, ``/metrics`` and REST routes
* :mod:`~ringrift.service.metrics` — ``ringrift_<service>_<what>_<unit>`` and runtime metrics
* :mod:`~ringrift.service.cli` — ``ringrift service run NAME``

Kept free of imports, so that ``ringrift.service.names`` loads without the runtime.
"""
