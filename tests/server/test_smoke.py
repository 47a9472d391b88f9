from __future__ import annotations

from tests.support.api import Api
from whetstone.server.services import Services


async def test_job_runs_to_completion(api: Api, services: Services) -> None:
    job = await api.job()
    assert job["status"] == "queued"
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    done = (await api.call("GET", f"/api/optimizations/{job['id']}"))["data"]
    assert done["status"] == "completed"
    events = await api.events(job["id"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["eventType"] == "job_started"
    assert events[-1]["eventType"] == "job_complete"
