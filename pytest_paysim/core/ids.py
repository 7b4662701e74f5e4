"""Seeded generation of ids and secrets, so that a seed reproduces a run.

Example::

    ids = IdGenerator(seed=42)
    ids.new("pay")   # 'pay_' + 24 base62 characters, the same for seed 42 every time

Draws come from blocks of bytes, block *k* being SHAKE-256 of the seed and *k*. A generator's
whole state is then two integers, so the simulator can note it before an operation and take
the operation's draws back when it fails (:meth:`IdGenerator.mark`, :meth:`IdGenerator.rewind`)
at the cost of a tuple, where ``random.Random.getstate`` copies 625 integers.
"""

from __future__ import annotations

import hashlib
import random
import threading

__all__ = ["BASE62", "IdGenerator", "derive_seed", "random_seed"]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LENGTH = 24
_BYTE_TO_BASE62 = bytes(BASE62[value % 62].encode()[0] for value in range(256))
_BLOCK_BYTES = 4096


def random_seed() -> int:
    """A fresh seed for a run that was given none (printed so it can be replayed)."""
    return random.SystemRandom().randrange(1, 2**32)


def derive_seed(seed: int, label: str) -> int:
    """A seed for one test, from the session seed and the test's node id.

    Hashing (rather than drawing from a shared generator) makes a test's ids independent of the
    order tests run in and of how xdist distributes them.
    """
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    # 63 bits: a seed any JSON client (and the control API's reset) can carry as an integer.
    return int.from_bytes(digest[:8], "big") >> 1


class IdGenerator:
    """Ids of the form ``<prefix>_<24 base62 chars>``, random bytes and chances, from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._seed_bytes = seed.to_bytes((seed.bit_length() + 8) // 8, "big", signed=True)
        self._lock = threading.Lock()
        self._block_index = 0
        self._block = self._make_block(0)
        self._position = 0

    def _make_block(self, index: int) -> bytes:
        stream = hashlib.shake_256(self._seed_bytes + b":" + index.to_bytes(8, "big"))
        return stream.digest(_BLOCK_BYTES)

    def randbytes(self, count: int) -> bytes:
        """The next ``count`` bytes of the seed's stream."""
        with self._lock:
            end = self._position + count
            if end <= _BLOCK_BYTES:
                drawn = self._block[self._position : end]
                self._position = end
                return drawn
            parts = [self._block[self._position :]]
            needed = count - len(parts[0])
            while needed > 0:
                self._block_index += 1
                self._block = self._make_block(self._block_index)
                taken = min(needed, _BLOCK_BYTES)
                parts.append(self._block[:taken])
                needed -= taken
                self._position = taken
            return b"".join(parts)

    def token(self, length: int = _ID_LENGTH) -> str:
        """``length`` base62 characters."""
        # One table lookup per byte (C speed); the 8 characters that 256 % 62 leaves over are
        # a little likelier, which does not matter for simulated ids.
        return self.randbytes(length).translate(_BYTE_TO_BASE62).decode("ascii")

    def new(self, prefix: str) -> str:
        """A new id with ``prefix`` (without the underscore)."""
        return prefix + "_" + self.token(_ID_LENGTH)

    def chance(self, probability: float) -> bool:
        """True with ``probability``, drawn from the seed's stream."""
        return int.from_bytes(self.randbytes(8), "big") < probability * 2**64

    def mark(self) -> tuple[int, int]:
        """Where the stream is now, for :meth:`rewind`."""
        with self._lock:
            return self._block_index, self._position

    def rewind(self, mark: tuple[int, int]) -> None:
        """Go back to ``mark``: the draws made since then will be drawn again."""
        index, position = mark
        with self._lock:
            if index != self._block_index:
                self._block_index = index
                self._block = self._make_block(index)
            self._position = position
