"""What a technician reads when a Modbus device misbehaves: per-device counters and the last frames."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass
class DeviceStats:
    """Counters of one unit id: every request, how it ended, and how long the device took."""

    requests: int = 0
    errors: int = 0  # exception responses and short answers
    timeouts: int = 0
    answered: int = 0
    total_s: float = 0.0
    max_s: float = 0.0

    def answer(self, elapsed_s: float) -> None:
        self.answered += 1
        self.total_s += elapsed_s
        self.max_s = max(self.max_s, elapsed_s)

    def snapshot(self) -> dict[str, float]:
        mean_ms = self.total_s / self.answered * 1000 if self.answered else 0.0
        return {"requests": self.requests, "errors": self.errors, "timeouts": self.timeouts,
                "mean_ms": round(mean_ms, 2), "max_ms": round(self.max_s * 1000, 2)}


class CommLog:
    """The last `size` frames on the wire, in hex, with their time: pymodbus' trace_packet hook."""

    def __init__(self, size: int = 200) -> None:
        self.frames: deque[tuple[float, bool, bytes]] = deque(maxlen=size)

    def trace(self, sending: bool, data: bytes) -> bytes:
        self.frames.append((time.time(), sending, data))  # formatted only when someone looks
        return data

    def received_since(self, wall_time: float) -> bool:
        """Did anything arrive after `wall_time`? (Frames pymodbus could not match to a request
        do arrive: the difference between a silent device and a confused one.)"""
        return any(not sending and t >= wall_time for t, sending, _ in reversed(self.frames))

    def lines(self, last: int = 50) -> list[str]:
        shown = list(self.frames)[-last:]
        return [f"{time.strftime('%H:%M:%S', time.localtime(t))}.{int(t % 1 * 1000):03d} "
                f"{'TX' if sending else 'RX'} {data.hex(' ')}" for t, sending, data in shown]
