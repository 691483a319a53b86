"""A cancelled waiter must stop even when its event is set in the same loop iteration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from drivers.waiting import wait_event


async def wait_for_based(event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109
    """The pattern wait_event replaces (what the drivers and the historian used to do)."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def cancel_while_set(wait: Callable[[asyncio.Event, float], Awaitable[bool]]) -> bool:
    """A loop like a poller's; returns True if cancelling it actually stopped it."""
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            await wait(event, 10)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # the loop is now waiting
    event.set()  # the wait completes...
    task.cancel()  # ...in the same iteration as the cancel
    done, _ = await asyncio.wait({task}, timeout=1)
    stopped = task in done and task.cancelled()
    if not stopped:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return stopped


def test_wait_event_never_swallows_a_cancellation():
    assert asyncio.run(cancel_while_set(wait_event))


def test_the_pattern_it_replaces_does_swallow_it_on_this_python():
    # Documents why wait_event exists; CPython 3.12 reimplemented wait_for and fixed this.
    assert asyncio.run(cancel_while_set(wait_for_based)) is False


def test_wait_event_reports_timeout_and_set():
    async def scenario() -> tuple[bool, bool]:
        event = asyncio.Event()
        timed_out = await wait_event(event, 0.01)
        event.set()
        return timed_out, await wait_event(event, 1)

    assert asyncio.run(scenario()) == (False, True)


def test_close_stops_a_driver_even_if_its_library_swallows_the_cancel_while_disconnecting():
    """asyncua's disconnect (and 3.11's wait_for) can eat the cancel that close() sends; the
    supervisor must still stop instead of backing off and reconnecting forever."""
    from drivers.supervisor import SupervisedDriver

    class SwallowingDriver(SupervisedDriver):
        disconnecting = asyncio.Event()

        async def _serve(self) -> None:
            raise ConnectionError("refused")

        async def _disconnect(self) -> None:
            self.disconnecting.set()
            try:
                await asyncio.sleep(0.2)
            except asyncio.CancelledError:
                pass  # what a careless library does

    async def scenario() -> bool:
        driver = SwallowingDriver("plc")
        await driver.start([], lambda updates: None, lambda *state: None)
        await driver.disconnecting.wait()
        try:
            async with asyncio.timeout(5):
                await driver.close()
        except TimeoutError:
            return False
        return True

    assert asyncio.run(scenario())


def test_a_poll_loop_stops_although_a_library_swallowed_its_cancel():
    from drivers.waiting import raise_if_cancelling

    async def library_call() -> None:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass  # as pymodbus' and asyncua's wait_for can on 3.11

    async def poll_loop(guarded: bool) -> None:
        for _ in range(30):  # bounded, so that the unguarded loop ends by itself (after ~1.5 s)
            await library_call()
            if guarded:
                raise_if_cancelling()

    async def stops(guarded: bool) -> bool:
        task = asyncio.create_task(poll_loop(guarded))
        await asyncio.sleep(0.01)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=0.5)
        await asyncio.gather(task, return_exceptions=True)
        return bool(done) and task.cancelled()

    assert asyncio.run(stops(guarded=True))
    assert not asyncio.run(stops(guarded=False))  # the hang it prevents
