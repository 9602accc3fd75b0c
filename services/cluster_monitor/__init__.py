"""The cluster monitor: node agents and the monitor that publishes cluster status."""
