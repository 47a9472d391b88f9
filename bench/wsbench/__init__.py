"""Parts of bench/streaming.py: shared settings, the load generator's client, the servers."""
