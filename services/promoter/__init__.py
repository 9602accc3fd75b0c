"""The promoter service: the model registry, the lifecycle state machine, and the REST API."""
