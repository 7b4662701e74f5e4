"""``RequestHeaders`` answers every lookup the server and the app make as ``http.client``'s
parsed ``HTTPMessage`` does, for the same fields."""

from __future__ import annotations

import io
from http.client import parse_headers

from hypothesis import given
from hypothesis import strategies as st

from pytest_paysim.serving import RequestHeaders

NAMES = ["Content-Type", "content-length", "Connection", "X-Repeat", "Idempotency-Key", "Expect"]
LOOKUPS = [*NAMES, "CONTENT-TYPE", "x-repeat", "Absent"]

fields = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=20),
    ),
    max_size=8,
)


def _both(pairs: list[tuple[str, str]]) -> tuple[RequestHeaders, object]:
    ours = RequestHeaders()
    for name, value in pairs:
        ours.add_field(name, value)
    block = "".join(f"{name}: {value}\r\n" for name, value in pairs) + "\r\n"
    theirs = parse_headers(io.BytesIO(block.encode("iso-8859-1")))
    return ours, theirs


@given(fields)
def test_lookups_agree_with_http_client(pairs: list[tuple[str, str]]) -> None:
    ours, theirs = _both(pairs)
    assert ours.items() == theirs.items()  # type: ignore[attr-defined]
    for name in LOOKUPS:
        assert ours.get(name) == theirs.get(name)  # type: ignore[attr-defined]
        assert ours.get(name, "-") == theirs.get(name, "-")  # type: ignore[attr-defined]
        assert ours.get_all(name) == theirs.get_all(name)  # type: ignore[attr-defined]
        assert (name in ours) == (name in theirs)  # type: ignore[operator]
        assert ours[name] == theirs[name]  # type: ignore[index]


def test_setting_and_deleting_keep_the_index() -> None:
    headers = RequestHeaders()
    headers["X-One"] = "1"
    headers["x-one"] = "2"
    assert headers.get_all("X-ONE") == ["1", "2"]
    del headers["X-One"]
    assert "x-one" not in headers
    assert headers.get("X-One") is None
    assert headers.items() == []
