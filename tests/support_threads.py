"""Running an async peer (an asyncua.Server, say) on its own loop thread, for GUI tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def peer_in_thread(factory: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter `factory()` on a private event loop in a thread; yield what it yields; exit it on leave."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[T] = loop.create_future()
    stop = asyncio.Event()

    async def run() -> None:
        try:
            async with factory() as value:
                ready.set_result(value)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=lambda: loop.run_until_complete(run()), name="test-peer")
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(_await(ready), loop).result(30)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


async def _await(future: asyncio.Future[T]) -> T:
    return await future


