"""Compact storage of JSON bodies: raw deflate with a preset dictionary.

Every event, idempotent answer and delivery carries a payment as JSON; the field names and the
shape repeat in every one. Deflating against a dictionary that already holds a typical body
stores each in about a fifth of its size, and unpacking costs about two microseconds. Records
may hold plain bytes for a while (the simulator packs after its lock is released), so
:func:`unpack` takes both::

    packed = pack(b'{"id":"evt_...","object":"event",...}')
    unpack(packed)  # the same bytes back

The dictionary is part of the storage format (SQLite files keep packed bytes): change it only
together with the store's schema version.
"""

from __future__ import annotations

import json
import zlib

__all__ = ["is_packed", "pack", "unpack"]

_WINDOW_BITS = -12  # raw deflate (no header), 4 KiB window: bodies are small
_MEMORY_LEVEL = 4

_PAYMENT = {
    "id": "pay_0000000000000000000000",
    "object": "payment",
    "amount": 1999,
    "currency": "usd",
    "status": "succeeded",
    "capture_method": "automatic",
    "description": None,
    "metadata": {"order_id": "1", "webhook_url": "http://127.0.0.1:8000/webhooks"},
    "client_secret": "pay_0000000000000000000000_secret_000000000000000000000000",
    "payment_url": "http://127.0.0.1:8000/pay/pay_0000000000000000000000?client_secret=",
    "return_url": None,
    "amount_capturable": 0,
    "amount_captured": 1999,
    "amount_refunded": 0,
    "failure_code": None,
    "decline_code": None,
    "failure_message": None,
    "cancellation_reason": None,
    "refunds": [
        {
            "id": "re_0000000000000000000000",
            "object": "refund",
            "payment_id": "pay_0000000000000000000000",
            "amount": 500,
            "currency": "usd",
            "reason": None,
            "status": "succeeded",
            "created_at": "2026-01-01T00:00:00.000Z",
        }
    ],
    "created_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-01T00:00:00.000Z",
}
_EVENT = {
    "id": "evt_0000000000000000000000",
    "object": "event",
    "type": "payment.succeeded",
    "created_at": "2026-01-01T00:00:00.000Z",
    "data": {"object": _PAYMENT},
}
_DICTIONARY = json.dumps(_EVENT, separators=(",", ":")).encode() + b"payment.refunded"


_MARK = b"\x00"  # no JSON text starts with a NUL byte, so packed and plain bytes never mix up


def pack(data: bytes) -> bytes:
    """``data`` deflated against the dictionary (marked, so :func:`unpack` knows it)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL, zdict=_DICTIONARY)
    return _MARK + packer.compress(data) + packer.flush()


def is_packed(data: bytes) -> bool:
    """Whether ``data`` came from :func:`pack` (plain JSON is kept as it is until packed)."""
    return data[:1] == _MARK


def unpack(data: bytes) -> bytes:
    """The bytes :func:`pack` was given; plain (not yet packed) bytes come back as they are."""
    if data[:1] != _MARK:
        return data
    unpacker = zlib.decompressobj(_WINDOW_BITS, zdict=_DICTIONARY)
    return unpacker.decompress(data[1:]) + unpacker.flush()
