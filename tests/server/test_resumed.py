"""server.connection.Resumed: a message loop that suspended outside any task goes on in a task,
and a cancellation reaches it whenever it comes -- also before the task's first step, when a
CancelRequest is read in the same poll as the statement that started waiting (the loop was
then left suspended for good: no reply, and its row locks held)."""

from __future__ import annotations

import asyncio

from pgaurora.server.connection import Resumed


def _suspended(body: object) -> tuple[object, object]:
    """Runs a coroutine to its first wait outside any task, as the connection does."""
    coro = body
    waiting_on = coro.send(None)  # type: ignore[attr-defined]
    return coro, waiting_on


async def test_a_cancel_before_the_first_step_reaches_the_coroutine_at_its_wait() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    seen: list[str] = []

    async def body() -> str:
        try:
            await future
        except asyncio.CancelledError:
            seen.append("canceled at the wait")
            return "answered 57014"
        return "not canceled"

    coro, waiting_on = _suspended(body())
    assert waiting_on is future
    task = loop.create_task(Resumed(coro, waiting_on))  # type: ignore[arg-type]
    task.cancel()  # before the task ever ran
    assert await asyncio.wait_for(task, 5) == "answered 57014"
    assert seen == ["canceled at the wait"]
    assert future.cancelled()  # as Task.cancel cancels the future a running task waits on


async def test_results_errors_and_bare_yields_pass_through() -> None:
    loop = asyncio.get_running_loop()
    first: asyncio.Future[int] = loop.create_future()
    second: asyncio.Future[int] = loop.create_future()

    async def body() -> list[object]:
        got: list[object] = [await first]
        await asyncio.sleep(0)  # a bare yield
        try:
            await second
        except ValueError as exc:
            got.append(str(exc))
        return got

    coro, waiting_on = _suspended(body())
    task = loop.create_task(Resumed(coro, waiting_on))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    first.set_result(7)
    for _ in range(5):
        await asyncio.sleep(0)
    second.set_exception(ValueError("from the future"))
    assert await asyncio.wait_for(task, 5) == [7, "from the future"]


async def test_a_cancel_while_waiting_later_reaches_the_coroutine() -> None:
    loop = asyncio.get_running_loop()
    first: asyncio.Future[int] = loop.create_future()
    second: asyncio.Future[int] = loop.create_future()

    async def body() -> str:
        await first
        try:
            await second
        except asyncio.CancelledError:
            return "canceled at the second wait"
        return "not canceled"

    coro, waiting_on = _suspended(body())
    task = loop.create_task(Resumed(coro, waiting_on))  # type: ignore[arg-type]
    first.set_result(1)
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    assert await asyncio.wait_for(task, 5) == "canceled at the second wait"
    assert second.cancelled()
