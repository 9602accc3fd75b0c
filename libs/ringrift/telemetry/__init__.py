"""Logging and metrics: the one place that configures how processes report."""
