"""The soak benchmark's parts: the server process, the jobs kept running, the subscribers,
and the report (``bench/soak.py`` puts them together)."""
