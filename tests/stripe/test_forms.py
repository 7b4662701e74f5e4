"""The Stripe dialect's form encoding: decoding what the SDKs send, and reading parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode  # the SDK's own encoder, to compare with
from stripe_support import ScriptedClient, sdk

from pytest_paysim.errors import ApiError, ParameterInvalid, ParameterMissing, ParameterUnknown
from pytest_paysim.stripe import forms
from pytest_paysim.stripe.errors import (
    ParameterInvalidEmpty,
    ParameterInvalidInteger,
    ParameterInvalidStringEmpty,
)
from pytest_paysim.stripe.forms import (
    MAX_DEPTH,
    MAX_FIELDS,
    as_list,
    as_mapping,
    child,
    decode,
    decode_pairs,
    encode,
    merge_metadata,
    reject_unknown,
    require,
    to_boolean,
    to_enum,
    to_integer,
    to_string,
    to_string_list,
)


def sdk_encode(params: Mapping[str, Any]) -> str:
    """What stripe-python puts on the wire for ``params`` (its requestor's two steps)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


# -- decode ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", {}, id="empty"),
        pytest.param("amount=2000&currency=usd", {"amount": "2000", "currency": "usd"}, id="flat"),
        pytest.param("metadata[order]=42", {"metadata": {"order": "42"}}, id="hash"),
        pytest.param("expand[]=latest_charge", {"expand": ["latest_charge"]}, id="append-one"),
        pytest.param(
            "payment_method_types[]=card&payment_method_types[]=link",
            {"payment_method_types": ["card", "link"]},
            id="append-two",
        ),
        pytest.param("expand[0]=a&expand[1]=b", {"expand": ["a", "b"]}, id="indexed"),
        pytest.param("expand[1]=b&expand[0]=a", {"expand": ["a", "b"]}, id="indexed-any-order"),
        pytest.param(
            "items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2",
            {"items": [{"price": "p1", "quantity": "2"}, {"price": "p2"}]},
            id="list-of-hashes",
        ),
        pytest.param(
            "a[0][0]=x&a[0][1]=y&a[1][0]=z", {"a": [["x", "y"], ["z"]]}, id="nested-lists"
        ),
        pytest.param(
            "card[number]=4242424242424242&card[exp_month]=12",
            {"card": {"number": "4242424242424242", "exp_month": "12"}},
            id="card",
        ),
        pytest.param(
            "a[b][c][d]=deep&a[b][e]=f", {"a": {"b": {"c": {"d": "deep"}, "e": "f"}}}, id="deep"
        ),
        pytest.param("metadata[1]=x", {"metadata": {"1": "x"}}, id="digit-key-not-from-0"),
        pytest.param("m[0]=x&m[2]=y", {"m": {"0": "x", "2": "y"}}, id="digit-keys-with-gap"),
        pytest.param("m[01]=x", {"m": {"01": "x"}}, id="leading-zero-is-a-key"),
        pytest.param("m[0]=x&m[k]=y", {"m": {"0": "x", "k": "y"}}, id="digit-and-word-keys"),
        pytest.param("description=a+b%26c%3Dd", {"description": "a b&c=d"}, id="plus-and-percent"),
        pytest.param("m[a+b]=1&m[%C3%A9]=2", {"m": {"a b": "1", "é": "2"}}, id="quoted-keys"),
        pytest.param("m%5Bk%5D=v", {"m": {"k": "v"}}, id="escaped-brackets"),
        pytest.param("description=", {"description": ""}, id="blank-value"),
        pytest.param("confirm", {"confirm": ""}, id="no-equals-sign"),
        pytest.param("a=x[y]", {"a": "x[y]"}, id="brackets-in-a-value"),
        pytest.param("a=1&&b=2&", {"a": "1", "b": "2"}, id="empty-pairs-skipped"),
        pytest.param("name=J%C3%BCrgen", {"name": "Jürgen"}, id="utf8"),
    ],
)
def test_decode(text: str, expected: dict[str, Any]) -> None:
    assert decode(text) == expected
    assert decode(text.encode()) == expected


@pytest.mark.parametrize(
    ("text", "param", "message"),
    [
        pytest.param("a[b=1", "a[b", "unbalanced brackets", id="unclosed"),
        pytest.param("a]=1", "a]", "unbalanced brackets", id="unopened"),
        pytest.param("a[b]c=1", "a[b]c", "unbalanced brackets", id="text-after-bracket"),
        pytest.param("a[b[c]]=1", "a[b[c]]", "unbalanced brackets", id="bracket-in-bracket"),
        pytest.param("[a]=1", "[a]", "no name before its brackets", id="no-base-name"),
        pytest.param("=1", None, "has no name", id="empty-name"),
        pytest.param("a=1&a[b]=2", "a", "both as a value and as a hash", id="scalar-then-hash"),
        pytest.param("a[b]=2&a=1", "a", "both as a hash or list and as a value", id="hash-then-v"),
        pytest.param("a=1&a[]=2", "a", "both as a value and as a list", id="scalar-then-list"),
        pytest.param("a[b]=1&a[b][c]=2", "a[b]", "both as a value and as a hash", id="nested"),
        pytest.param("a=1&a=2", "a", "more than once", id="scalar-twice"),
        pytest.param("a[0]=1&a[0]=2", "a[0]", "more than once", id="index-twice"),
        pytest.param("a[]=1&a[b]=2", "a", "mixes a[] with a[key]", id="list-then-hash"),
        pytest.param("a[b]=1&a[]=2", "a", "mixes a[] with a[key]", id="hash-then-list"),
        pytest.param("a[]=1&a[0]=2", "a", "mixes a[] with a[key]", id="append-then-index"),
        pytest.param("a[][b]=1", "a[][b]", "can only come last", id="append-in-the-middle"),
        pytest.param(
            "a" + "[k]" * (MAX_DEPTH + 1) + "=1",
            "a" + "[k]" * (MAX_DEPTH + 1),
            f"at most {MAX_DEPTH} levels",
            id="too-deep",
        ),
    ],
)
def test_decode_refuses_malformed_names(text: str, param: str | None, message: str) -> None:
    with pytest.raises(ParameterInvalid, match=re.escape(message)) as caught:
        decode(text)
    assert caught.value.param == param
    assert caught.value.status_code == 400


def test_a_long_bad_name_is_shortened_in_the_error() -> None:
    with pytest.raises(ParameterInvalid) as caught:
        decode("a[" + "x" * 5000 + "=1")
    assert caught.value.param is not None
    assert len(caught.value.param) == 100
    assert len(caught.value.message) < 300


def test_nesting_up_to_the_limit_is_accepted() -> None:
    value: Any = decode("a" + "[k]" * MAX_DEPTH + "=1")["a"]
    for _ in range(MAX_DEPTH):
        value = value["k"]
    assert value == "1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"a=\xff", "not valid UTF-8", id="raw-bad-utf8"),
        pytest.param("a=%FF", "not valid UTF-8", id="escaped-bad-utf8"),
        pytest.param("a=%ED%A0%80", "not valid UTF-8", id="escaped-surrogate"),
        pytest.param("%ED%A0%80=1", "not valid UTF-8", id="surrogate-in-a-name"),
        pytest.param("a=\ud800", "lone surrogate", id="surrogate-in-str"),
    ],
)
def test_decode_refuses_text_that_is_not_utf8(data: str | bytes, message: str) -> None:
    with pytest.raises(ParameterInvalid, match=message):
        decode(data)


def test_field_limit() -> None:
    assert len(decode("&".join(f"a{i}=1" for i in range(MAX_FIELDS)))) == MAX_FIELDS
    with pytest.raises(ParameterInvalid, match=f"more than {MAX_FIELDS} parameters"):
        decode("&".join(f"a{i}=1" for i in range(MAX_FIELDS + 1)))
    with pytest.raises(ParameterInvalid, match=f"more than {MAX_FIELDS} parameters"):
        decode_pairs(("a[]", "x") for _ in range(MAX_FIELDS + 1))


def test_huge_digit_keys_are_hash_keys_not_list_slots() -> None:
    big = "9" * 5000  # int() of this raises in Python 3.11+: it must never be converted
    assert decode(f"a[{big}]=x") == {"a": {big: "x"}}
    with pytest.raises(ParameterInvalid, match="but no index 0") as caught:
        as_list(decode(f"a[{big}]=x")["a"], "a")
    assert caught.value.param is not None
    assert len(caught.value.param) <= 100


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary(), st.text(alphabet="ab[]=&%5BD0+", max_size=40)))
def test_decode_never_fails_but_with_a_400(data: str | bytes) -> None:
    error = _error_of_decoding(data)
    if error is not None:
        assert error.status_code == 400
        assert json.dumps(error.to_dict())


def _error_of_decoding(data: str | bytes) -> ApiError | None:
    try:
        decode(data)
    except ApiError as error:
        return error
    return None


# -- encode, and the SDK -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"amount": 2000, "currency": "usd"}, "amount=2000&currency=usd", id="flat"),
        pytest.param({"confirm": True, "off": False}, "confirm=true&off=false", id="booleans"),
        pytest.param({"a": None, "b": "x"}, "b=x", id="none-left-out"),
        pytest.param({"a": [], "b": {}}, "", id="empty-containers-send-nothing"),
        pytest.param({"expand": ["a", "b"]}, "expand[0]=a&expand[1]=b", id="list"),
        pytest.param({"metadata": {"k": "v"}}, "metadata[k]=v", id="hash"),
        pytest.param(
            {"items": [{"price": "p", "quantity": 2}]},
            "items[0][price]=p&items[0][quantity]=2",
            id="list-of-hashes",
        ),
        pytest.param({"a": [["x"]]}, "a[0][0]=x", id="list-of-lists"),
        pytest.param({"d": "a b&c"}, "d=a+b%26c", id="quoted"),
        pytest.param({"m": {"ü[": "x"}}, "m[%C3%BC[]=x", id="brackets-left-unescaped"),
    ],
)
def test_encode(params: dict[str, Any], expected: str) -> None:
    assert encode(params) == expected


def test_encode_writes_what_the_sdk_writes_for_flat_values() -> None:
    params = {
        "amount": 2000,
        "confirm": True,
        "metadata": {"order": "42", "flag": False},
        "items": [{"price": "p", "quantity": 2}],
        "skip": None,
    }
    assert encode(params) == sdk_encode(params)


def test_encode_refuses_what_has_no_form() -> None:
    with pytest.raises(TypeError):
        encode({"a": object()})
    with pytest.raises(TypeError):
        encode({"a": {1: "x"}})


# Keys as the SDK can send them: no brackets (the wire has no escape for them) and not a list
# index (``m[0]=x`` cannot say whether ``0`` is a key or an index: see the next tests).
_text = st.characters(codec="utf-8")
_keys = st.text(_text, min_size=1, max_size=12).filter(
    lambda key: "[" not in key and "]" not in key and not re.fullmatch(r"0|[1-9][0-9]*", key)
)
_forms: st.SearchStrategy[Any] = st.recursive(
    st.text(_text, max_size=12),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(_keys, inner, min_size=1, max_size=4),
    ),
    max_leaves=10,
)
_params = st.dictionaries(_keys, _forms, max_size=5)


@settings(max_examples=150, deadline=None)
@given(_params)
def test_decode_reads_back_what_encode_and_the_sdk_write(params: dict[str, Any]) -> None:
    written = encode(params)
    assert written == sdk_encode(params)
    assert decode(written) == params


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=40).filter(lambda key: "[" not in key and "]" not in key),
        st.text(min_size=1, max_size=50),
        min_size=1,
        max_size=50,
    )
)
def test_any_metadata_the_sdk_sends_reads_back_exactly(metadata: dict[str, str]) -> None:
    # Digit keys included: a decoded list is turned back into the hash of its indices.
    decoded = decode(sdk_encode({"metadata": metadata}))
    assert merge_metadata({}, decoded["metadata"]) == metadata


@pytest.mark.parametrize(
    ("metadata", "decoded"),
    [
        pytest.param({"0": "a"}, ["a"], id="one"),
        pytest.param({"1": "b", "0": "a"}, ["a", "b"], id="two-any-order"),
        pytest.param({"0": "a", "2": "c"}, {"0": "a", "2": "c"}, id="gap-stays-a-hash"),
    ],
)
def test_digit_keys_decode_as_a_list_and_read_back_as_the_hash(
    metadata: dict[str, str], decoded: Any
) -> None:
    params = decode(encode({"metadata": metadata}))
    assert params["metadata"] == decoded
    assert as_mapping(params["metadata"], "metadata") == metadata


def test_the_sdk_request_decodes_to_its_params() -> None:
    client = ScriptedClient({"id": "pi_1", "object": "payment_intent"})
    stripe_client = sdk(client)
    stripe_client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "confirm": True,
            "metadata": {"order": "42", "0": "zero"},
            "expand": ["latest_charge", "customer"],
            "payment_method_types": ["card"],
            "payment_method_options": {"card": {"request_three_d_secure": "any"}},
        }
    )
    stripe_client.v1.payment_intents.list(params={"limit": 3, "expand": ["data.customer"]})
    (create_method, create_url, body), (list_method, list_url, no_body) = client.requests
    assert (create_method, urlsplit(create_url).path) == ("post", "/v1/payment_intents")
    params = decode(body)
    assert params == {
        "amount": "2000",
        "currency": "usd",
        "confirm": "true",
        "metadata": {"order": "42", "0": "zero"},
        "expand": ["latest_charge", "customer"],
        "payment_method_types": ["card"],
        "payment_method_options": {"card": {"request_three_d_secure": "any"}},
    }
    assert to_integer(params["amount"], "amount") == 2000
    assert to_boolean(params["confirm"], "confirm") is True
    assert list_method == "get"
    assert no_body is None
    assert decode(urlsplit(list_url).query) == {"limit": "3", "expand": ["data.customer"]}


# -- reading parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2000", 2000, id="plain"),
        pytest.param("0", 0, id="zero"),
        pytest.param("-5", -5, id="negative"),
        pytest.param("007", 7, id="leading-zeros"),
        pytest.param(str(2**63 - 1), 2**63 - 1, id="int64-max"),
    ],
)
def test_to_integer(value: str, expected: int) -> None:
    assert to_integer(value, "amount") == expected


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        pytest.param("abc", ParameterInvalidInteger, "Invalid integer: abc", id="word"),
        pytest.param("1.5", ParameterInvalidInteger, "Invalid integer: 1.5", id="decimal"),
        pytest.param(" 1", ParameterInvalidInteger, "Invalid integer:  1", id="space"),
        pytest.param("+1", ParameterInvalidInteger, "Invalid integer: +1", id="plus"),
        pytest.param("1e3", ParameterInvalidInteger, "Invalid integer: 1e3", id="exponent"),
        pytest.param("٣", ParameterInvalidInteger, "Invalid integer", id="non-ascii-digit"),
        pytest.param(str(2**63), ParameterInvalidInteger, "Invalid integer", id="over-int64"),
        pytest.param("9" * 5000, ParameterInvalidInteger, "Invalid integer", id="huge"),
        pytest.param({"a": "1"}, ParameterInvalidInteger, "not a hash", id="hash"),
        pytest.param(["1"], ParameterInvalidInteger, "not a list", id="list"),
        pytest.param(
            "", ParameterInvalidEmpty, "You passed an empty string for 'amount'", id="empty"
        ),
    ],
)
def test_to_integer_refuses(value: Any, error: type[ApiError], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)) as caught:
        to_integer(value, "amount")
    assert caught.value.param == "amount"


def test_to_integer_range_as_stripe_words_it() -> None:
    assert to_integer("1", "amount", minimum=1, maximum=10) == 1
    with pytest.raises(ParameterInvalidInteger, match="greater than or equal to 1"):
        to_integer("0", "amount", minimum=1)
    with pytest.raises(ParameterInvalidInteger, match="less than or equal to 10"):
        to_integer("11", "amount", maximum=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [pytest.param("true", True, id="true"), pytest.param("false", False, id="false")],
)
def test_to_boolean(value: str, expected: bool) -> None:
    assert to_boolean(value, "confirm") is expected


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param("True", ParameterInvalid, id="capitalised"),
        pytest.param("1", ParameterInvalid, id="one"),
        pytest.param("yes", ParameterInvalid, id="yes"),
        pytest.param({"a": "true"}, ParameterInvalid, id="hash"),
        pytest.param("", ParameterInvalidEmpty, id="empty"),
    ],
)
def test_to_boolean_refuses(value: Any, error: type[ApiError]) -> None:
    with pytest.raises(error) as caught:
        to_boolean(value, "confirm")
    assert caught.value.param == "confirm"
    assert caught.value.code == error.code


def test_to_enum() -> None:
    choices = ("automatic", "automatic_async", "manual")
    assert to_enum("manual", "capture_method", choices) == "manual"
    with pytest.raises(
        ParameterInvalid,
        match=re.escape(
            "Invalid capture_method: must be one of automatic, automatic_async, or manual"
        ),
    ):
        to_enum("later", "capture_method", choices)
    with pytest.raises(ParameterInvalid, match="must be one of card or link"):
        to_enum(["card"], "type", ("card", "link"))
    with pytest.raises(ParameterInvalidEmpty):
        to_enum("", "capture_method", choices)


def test_to_string() -> None:
    assert to_string("hello", "description", max_length=5) == "hello"
    assert to_string("", "description", unsettable=True) is None
    with pytest.raises(ParameterInvalidEmpty, match="cannot be unset"):
        to_string("", "currency")
    with pytest.raises(ParameterInvalid, match="at most 5 characters; it has 6") as caught:
        to_string("hello!", "description", max_length=5)
    assert caught.value.param == "description"
    with pytest.raises(ParameterInvalid, match="must be a string, not a hash"):
        to_string({"a": "b"}, "description")


def test_to_string_list() -> None:
    assert to_string_list(["a", "b"], "enabled_events") == ["a", "b"]
    assert to_string_list({"1": "b", "0": "a"}, "enabled_events") == ["a", "b"]
    assert to_string_list("", "enabled_events") == []
    with pytest.raises(ParameterInvalidStringEmpty) as caught:
        to_string_list(["a", ""], "enabled_events")
    assert caught.value.param == "enabled_events[1]"
    with pytest.raises(ParameterInvalid, match="must be a string") as caught:
        to_string_list([{"a": "b"}], "enabled_events")
    assert caught.value.param == "enabled_events[0]"
    with pytest.raises(ParameterInvalid, match="at most 3 characters"):
        to_string_list(["abcd"], "x", max_length=3)


@pytest.mark.parametrize(
    ("value", "param", "message"),
    [
        pytest.param({"1": "x", "3": "y"}, "items[1]", "has index 1 but no index 0", id="from-1"),
        pytest.param({"0": "x", "2": "y"}, "items[2]", "has index 2 but no index 1", id="gap"),
        pytest.param({"k": "x"}, "items", "not a hash", id="hash"),
        pytest.param("card", "items", "not a single value", id="scalar"),
    ],
)
def test_as_list_refuses(value: Any, param: str, message: str) -> None:
    with pytest.raises(ParameterInvalid, match=message) as caught:
        as_list(value, "items")
    assert caught.value.param == param


def test_as_list_and_as_mapping() -> None:
    assert as_list(["a"], "x") == ["a"]
    assert as_list({"1": "b", "0": "a"}, "x") == ["a", "b"]
    assert as_mapping({"k": "v"}, "card") == {"k": "v"}
    assert as_mapping(decode("m[0]=a&m[1]=b")["m"], "metadata") == {"0": "a", "1": "b"}
    with pytest.raises(ParameterInvalid, match="Invalid object: card takes keys"):
        as_mapping("4242", "card")
    # m[]=a is a list with no keys: refused where a hash belongs (m[0]=a is the key "0").
    with pytest.raises(ParameterInvalid, match="not a list") as listed:
        as_mapping(decode("metadata[]=a")["metadata"], "metadata")
    assert listed.value.param == "metadata"


def test_require_and_reject_unknown() -> None:
    params: dict[str, forms.FormValue] = {"amount": "1", "colour": "red", "size": "L"}
    assert require(params, "amount") == "1"
    with pytest.raises(ParameterMissing, match=re.escape("Missing required param: currency.")):
        require(params, "currency")
    with pytest.raises(ParameterMissing, match=re.escape("card[number].")) as missing:
        require({}, "number", prefix="card")
    assert missing.value.param == "card[number]"
    reject_unknown(params, {"amount", "colour", "size"})
    with pytest.raises(ParameterUnknown) as one:
        reject_unknown(params, {"amount", "size"})
    assert one.value.message == "Received unknown parameter: colour"
    assert one.value.param == "colour"
    with pytest.raises(ParameterUnknown) as two:
        reject_unknown(params, {"amount"})
    assert two.value.message == "Received unknown parameters: colour, size"
    with pytest.raises(ParameterUnknown) as nested:
        reject_unknown({"brand": "x"}, {"number"}, prefix="card")
    assert nested.value.message == "Received unknown parameter: card[brand]"
    assert child("card", "number") == "card[number]"
    assert child("items", 0) == "items[0]"


# -- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "update", "expected"),
    [
        pytest.param({}, {"a": "1"}, {"a": "1"}, id="create"),
        pytest.param({}, {"a": ""}, {}, id="create-empty-value-is-nothing"),
        pytest.param({"a": "1"}, {"b": "2"}, {"a": "1", "b": "2"}, id="merge"),
        pytest.param({"a": "1"}, {"a": "9"}, {"a": "9"}, id="overwrite"),
        pytest.param({"a": "1", "b": "2"}, {"a": ""}, {"b": "2"}, id="empty-value-removes"),
        pytest.param({"a": "1"}, {"zz": ""}, {"a": "1"}, id="removing-absent-key"),
        pytest.param({"a": "1", "b": "2"}, "", {}, id="empty-metadata-clears"),
        pytest.param({}, decode("m[0]=x&m[1]=y")["m"], {"0": "x", "1": "y"}, id="digit-keys"),
    ],
)
def test_merge_metadata(
    current: dict[str, str], update: forms.FormValue, expected: dict[str, str]
) -> None:
    assert merge_metadata(current, update) == expected
    assert current == dict(current)  # not changed in place


def test_metadata_limits() -> None:
    fifty = {f"k{i}": "v" for i in range(50)}
    assert len(merge_metadata({}, fifty)) == 50
    with pytest.raises(ParameterInvalid, match="up to 50 keys") as caught:
        merge_metadata(fifty, {"one_more": "v"})
    assert caught.value.param == "metadata"
    assert len(merge_metadata(fifty, {"k0": "", "one_more": "v"})) == 50
    assert merge_metadata({}, {"k" * 40: "v" * 500}) == {"k" * 40: "v" * 500}
    with pytest.raises(ParameterInvalid, match="up to 40 characters") as key:
        merge_metadata({}, {"k" * 41: "v"})
    assert key.value.param == f"metadata[{'k' * 41}]"
    with pytest.raises(ParameterInvalid, match="up to 500 characters") as value:
        merge_metadata({}, {"k": "v" * 501})
    assert value.value.param == "metadata[k]"
    with pytest.raises(ParameterInvalid, match="metadata values are strings") as nested:
        merge_metadata({}, {"k": {"deep": "x"}})
    assert nested.value.param == "metadata[k]"
    with pytest.raises(ParameterInvalid, match="Invalid object"):
        merge_metadata({}, "not-a-hash")
