"""Seeded generation of ids and secrets, so that a seed reproduces a run.

Example::

    ids = IdGenerator(seed=42)
    ids.new("pay")   # 'pay_' + 24 base62 characters, the same for seed 42 every time
"""

from __future__ import annotations

import hashlib
import random
import threading

__all__ = ["BASE62", "IdGenerator", "derive_seed", "random_seed"]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LENGTH = 24
_BYTE_TO_BASE62 = bytes(BASE62[value % 62].encode()[0] for value in range(256))


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
    """Ids of the form ``<prefix>_<24 base62 chars>`` and random values, from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self._lock = threading.Lock()

    def token(self, length: int = _ID_LENGTH) -> str:
        """``length`` base62 characters."""
        with self._lock:
            raw = self.random.randbytes(length)
        # One table lookup per byte (C speed); the 8 characters that 256 % 62 leaves over are
        # a little likelier, which does not matter for simulated ids.
        return raw.translate(_BYTE_TO_BASE62).decode("ascii")

    def new(self, prefix: str) -> str:
        """A new id with ``prefix`` (without the underscore)."""
        return prefix + "_" + self.token(_ID_LENGTH)

    def chance(self, probability: float) -> bool:
        """True with ``probability``, drawn from the seeded generator."""
        with self._lock:
            return self.random.random() < probability
