"""Runs simulated calls through their timeline and owns every background task.

Each call is an asyncio task; the reports a provider publishes when a call ends (the C2C v2
webhook, Kazoo history) run at the end of that same task, so cancelling the task set on
``stop()`` leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from dialer.simulator.model import CallState, Outcome, SimCall, SimulatorConfig

logger = logging.getLogger(__name__)

OnFinished = Callable[[SimCall], Awaitable[None]]


def leg_seconds(seconds: float) -> int:
    """Whole seconds as a provider reports them: an answered leg bills at least one second
    (tests use sub-second talk times, and a 0 would read as "not answered")."""
    return max(1, round(seconds)) if seconds > 0 else 0


class CallEngine:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.calls: dict[str, SimCall] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        # The set keeps a strong reference: the event loop only holds weak ones.
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self, call: SimCall, on_finished: OnFinished | None = None) -> None:
        call.started_at = time.time()
        self._mark(call, CallState.ACCEPTED)
        self.calls[call.id] = call
        self.spawn(self._run(call, on_finished), name=f"sim-call-{call.id}")

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _mark(self, call: SimCall, state: CallState) -> float:
        now = time.time()
        call.timeline.append((now, state.value))
        logger.debug("call %s: %s", call.id, state.value)
        return now

    async def _ring(self, call: SimCall, state: CallState) -> None:
        self._mark(call, state)
        await asyncio.sleep(self.config.ring_seconds)

    async def _run(self, call: SimCall, on_finished: OnFinished | None) -> None:
        await self._progress(call)
        call.finished.set()
        if on_finished is not None:
            try:
                await on_finished(call)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A report that cannot be published must not take the simulator down.
                logger.exception("publishing the report of call %s failed", call.id)

    def _end(self, call: SimCall, state: CallState, cause: str | None, hangup_by: str) -> None:
        call.ended_at = self._mark(call, state)
        call.cause = cause
        call.hangup_by = hangup_by

    def _customer_refusal(self, call: SimCall) -> CallState | None:
        if call.cause is not None:  # decided at placement (Kazoo's unroutable contacts)
            return CallState.FAILED
        return {
            Outcome.NO_ANSWER: CallState.NO_ANSWER,
            Outcome.BUSY: CallState.BUSY,
            Outcome.FAILED: CallState.FAILED,
        }.get(call.outcome)

    async def _progress(self, call: SimCall) -> None:
        talk = self.config.talk_seconds
        if call.limit is not None:
            talk = min(talk, call.limit)
        capped = talk < self.config.talk_seconds
        refusal = self._customer_refusal(call)
        refusal_cause = (call.cause or _cause(refusal)) if refusal is not None else None
        first_answered: float | None = None
        second_answered: float | None = None

        if call.flow_id is not None or call.customer_first:
            await self._ring(call, CallState.RINGING_CUSTOMER)
            if refusal is not None:
                self._end(call, refusal, refusal_cause, "agent")
                return
            first_answered = time.time()
            if call.customer_first:
                await self._ring(call, CallState.RINGING_AGENT)
                if call.outcome is Outcome.AGENT_NO_ANSWER:
                    self._end(call, CallState.NO_ANSWER, "NO_ANSWER", "caller")
                    self._legs(call, first_answered, None)
                    return
                second_answered = self._mark(call, CallState.AGENT_ANSWERED)
        else:
            await self._ring(call, CallState.RINGING_AGENT)
            if call.outcome is Outcome.AGENT_NO_ANSWER:
                self._end(call, CallState.NO_ANSWER, "NO_ANSWER", "agent")
                return
            first_answered = self._mark(call, CallState.AGENT_ANSWERED)
            await self._ring(call, CallState.RINGING_CUSTOMER)
            if refusal is not None:
                self._end(call, refusal, refusal_cause, "agent")
                self._legs(call, first_answered, None)
                return
            second_answered = time.time()

        self._mark(call, CallState.CONNECTED)
        await asyncio.sleep(talk)
        # Capped calls are cut by the platform on the agent's side of the bridge.
        self._end(call, CallState.COMPLETED, None, "agent" if capped else "caller")
        self._legs(call, first_answered, second_answered)

    def _legs(self, call: SimCall, first: float | None, second: float | None) -> None:
        end = call.ended_at or time.time()
        call.first_leg_seconds = end - first if first is not None else 0.0
        call.second_leg_seconds = end - second if second is not None else 0.0


def _cause(state: CallState) -> str:
    # Q.850 names, the vocabulary Kazoo and most switches report.
    return {
        CallState.NO_ANSWER: "NO_ANSWER",
        CallState.BUSY: "USER_BUSY",
        CallState.FAILED: "CALL_REJECTED",
    }.get(state, "NORMAL_CLEARING")
