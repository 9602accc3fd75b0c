"""The pipeline on one machine: ``ringrift up`` (``make run``) and what it is made of.

``settings`` (what a run is), ``profiles`` (the budgets each service gets),
``processes`` (the services as processes, their flags and environment), ``bootstrap``
(broker, topics, databases, operator token), ``supervisor`` (start, restart with backoff,
stop), ``tail`` + ``state`` (what the topics say), ``probe`` (readiness, metrics, the
promoter's status), ``monitor`` + ``view`` / ``plain`` (the status view), ``report``
(where the time went), ``run`` (the command), ``trace`` (``ringrift events trace``).
"""
