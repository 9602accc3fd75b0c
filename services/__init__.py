"""The pipeline's services, one package each (see services/README.md)."""
