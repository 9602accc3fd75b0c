"""The exporter service: finished games in, training shards out (``ringrift service run exporter``)."""
