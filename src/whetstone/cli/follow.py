"""Following a job live through the SDK's ``subscribe``: every event from the first (so the
view is whole even when joining late), drawn by one of three sinks:

- a terminal: the Rich live panel of ``watch.py``, redrawn a few times a second;
- anything else: one line per event (``watch.event_line``);
- ``--json``: one JSON object per event, the REST API's event shape.

Connection changes (``reconnecting`` while the SDK retries) show in the panel, or as notes on
stderr. The subscription resumes after the last event it delivered, so nothing repeats.
"""

from __future__ import annotations

import threading

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live

from whetstone.cli.output import Output
from whetstone.cli.watch import WatchState, event_line, render
from whetstone.sdk import AsyncWhetstone, ConnectionState, Event, JobFailedError, Results


class _View:
    """The panel, drawn from the state under a lock (Live redraws on its own thread)."""

    def __init__(self, state: WatchState) -> None:
        self.state = state
        self.lock = threading.Lock()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        with self.lock:
            yield render(self.state)


class LiveSink:
    def __init__(self, out: Output, state: WatchState) -> None:
        self._view = _View(state)
        self._live = Live(self._view, console=out.out, refresh_per_second=8, transient=False)

    def event(self, event: Event) -> None:
        with self._view.lock:
            self._view.state.apply(event)

    def connection(self, state: str) -> None:
        with self._view.lock:
            self._view.state.connection_changed(state)

    def __enter__(self) -> LiveSink:
        self._live.start(refresh=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()  # draws the last state once more


class LineSink:
    def __init__(self, out: Output, state: WatchState) -> None:
        self._out = out
        self._state = state

    def event(self, event: Event) -> None:
        self._state.apply(event)
        if self._out.json_mode:
            self._out.json(event)
        else:
            self._out.line(event_line(event))

    def connection(self, state: str) -> None:
        self._state.connection_changed(state)
        if state == ConnectionState.RECONNECTING:
            self._out.note("[yellow]connection lost; reconnecting…[/]")
        elif state == ConnectionState.CONNECTED and self._state.reconnects:
            self._out.note("[green]reconnected[/]")

    def __enter__(self) -> LineSink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def sink_for(out: Output, state: WatchState) -> LiveSink | LineSink:
    if out.is_terminal and not out.json_mode:
        return LiveSink(out, state)
    return LineSink(out, state)


async def follow(client: AsyncWhetstone, out: Output, job_id: str) -> WatchState:
    """Follow ``job_id`` to its end; the final state has ``results`` unless it failed."""
    job = await client.optimization.get(job_id)  # an unknown id fails here, before drawing
    state = WatchState.from_job(job)
    with sink_for(out, state) as sink:
        sub = client.optimization.subscribe(
            job_id,
            on_event=sink.event,
            on_connection_change=lambda s: sink.connection(str(s)),
            after_event_id=0,
        )
        try:
            results: Results | None = await sub.wait()
        except JobFailedError as exc:
            state.status = "failed"
            state.error = exc.error.message
            return state
        finally:
            await sub.aclose()
    if results is not None:
        state.finish(results)
        state.status = results.status
    return state
