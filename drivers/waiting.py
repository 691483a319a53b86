"""Waiting for an event with a timeout, without losing a cancellation.

On CPython 3.11 `asyncio.wait_for(event.wait(), t)` swallows the cancellation of the waiting
task when the event is set in the same loop iteration as the cancel (it returns the result
instead of raising): a driver's or the historian's loop then never stops and `close()` hangs.
`asyncio.timeout` propagates the cancellation correctly.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109 - the point of it
    """Wait until `event` is set or `timeout` seconds pass; True if it was set."""
    try:
        async with asyncio.timeout(max(0.0, timeout)):
            await event.wait()
    except TimeoutError:
        return False
    return True


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library swallowed: asyncua's and pymodbus' own `wait_for`s
    on 3.11 can eat the cancel that stops a poll loop, which then runs on and hangs close()."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
