"""Time-ordered job ids (UUIDv7, RFC 9562).

Ids are made by the client so the id and the trace context go into the one
INSERT, and so that the primary key index grows at its right edge.

A bulk enqueue makes thousands of ids at once, so the random bits come from a
pool filled by ``os.urandom`` a few kilobytes at a time (one system call per 512
ids, not one per id), and the :class:`uuid.UUID` is built without re-validating
an integer made here. A forked child drops the pool it inherited, so parent and
child never hand out the same bits.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_POOL_BYTES = 4096
_lock = threading.Lock()
_last_ms = 0
_counter = 0
_pool = b""
_taken = 0
_new_uuid = object.__new__
_set = object.__setattr__
_SAFE = uuid.SafeUUID.unknown


def _after_fork_in_child() -> None:
    """Drop the parent's pool, and its lock, which another thread may have held at the fork."""
    global _pool, _taken, _lock
    _pool, _taken = b"", 0
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def uuid7() -> uuid.UUID:
    """Return a UUIDv7; ids made in one process are strictly increasing."""
    global _last_ms, _counter, _pool, _taken
    with _lock:
        ms = time.time_ns() // 1_000_000
        if _taken + 10 > len(_pool):
            _pool, _taken = os.urandom(_POOL_BYTES), 0
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:  # 12-bit counter exhausted: borrow the next millisecond
                ms += 1
                _counter = 0
        else:
            _counter = int.from_bytes(_pool[_taken : _taken + 2], "big") & 0x3FF
        _last_ms = ms
        rand = int.from_bytes(_pool[_taken + 2 : _taken + 10], "big")
        _taken += 10
        counter = _counter
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF
    made: uuid.UUID = _new_uuid(uuid.UUID)
    _set(made, "int", value)  # what uuid.UUID(int=value) stores, without its range checks
    _set(made, "is_safe", _SAFE)
    return made
