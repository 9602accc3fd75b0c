"""The example service: the smallest service on the runtime, and the template for new ones."""
