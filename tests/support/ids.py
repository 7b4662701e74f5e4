"""What the simulator's ids and times look like: one copy of each pattern for every test."""

from __future__ import annotations

import re

ID_CHARS = r"[0-9A-Za-z]{24}"
"""The random part of every id: 24 letters and digits."""
ID_PREFIXES = ("pay", "re", "evt", "whd", "we")
ID_RE = {prefix: re.compile(rf"^{prefix}_{ID_CHARS}$") for prefix in ID_PREFIXES}
"""A full id by its prefix: ``ID_RE["pay"].match(payment["id"])``."""
EVENT_ID_RE = ID_RE["evt"]
DELIVERY_ID_RE = ID_RE["whd"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
"""A time as the API writes it: UTC, milliseconds, ``Z``."""
