"""Output of the rig: ``[rig]`` lines, timed steps, and the one error type every failure raises."""

from __future__ import annotations

import time


def log(msg: str) -> None:
    print(f"[rig] {msg}", flush=True)


class step:
    """Context manager printing ``[rig] <name>: 1.2s (note)`` when the step ends."""

    def __init__(self, name: str):
        self.name = name
        self.note = ""

    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, exc_type, exc, tb):
        dt = time.monotonic() - self.t0
        note = f" ({self.note})" if self.note else ""
        if exc_type is not None and exc_type is not SystemExit:
            note = f" (FAILED: {exc})"
        log(f"{self.name}: {dt:.1f}s{note}")
        return False


class RigError(Exception):
    pass


def die(msg: str) -> None:
    raise RigError(msg)
