"""Job ids: UUIDv7, strictly increasing in a process, never repeated by a forked child."""

from __future__ import annotations

import itertools
import os
import uuid

from taskward.core._ids import uuid7


def test_ids_are_valid_increasing_uuid7() -> None:
    ids = [uuid7() for _ in range(5000)]  # more than one pool of random bytes
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert {i.version for i in ids} == {7}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert all(uuid.UUID(str(i)) == i and hash(uuid.UUID(i.hex)) == hash(i) for i in ids)


def test_a_forked_child_does_not_reuse_the_parents_random_bits() -> None:
    uuid7()  # the parent now holds a partly used pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its ids and leave at once
        os.close(read)
        os.write(write, "".join(uuid7().hex for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    child = {text[i : i + 32][-16:] for i in range(0, len(text), 32)}
    parent = {uuid7().hex[-16:] for _ in range(50)}
    assert len(child) == 50
    assert not child & parent
