"""Pure data: prompts, datasets, job config and status, events. No I/O here."""
