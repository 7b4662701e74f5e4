"""Stripe's form encoding: bracket-notation bodies and query strings, and reading parameters.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings) whose
names carry the nesting: ``metadata[order]=42``, ``expand[]=latest_charge`` or
``expand[0]=latest_charge``, ``items[0][price]=x``. :func:`decode` turns them into nested dicts
and lists of strings; :func:`encode` writes them as the official SDKs do::

    >>> decode("amount=2000&metadata[order]=42&expand[0]=latest_charge&expand[1]=customer")
    {'amount': '2000', 'metadata': {'order': '42'}, 'expand': ['latest_charge', 'customer']}
    >>> encode({"amount": 2000, "confirm": True, "payment_method_types": ["card"]})
    'amount=2000&confirm=true&payment_method_types[0]=card'

Decoding knows no schema. A key made of digits is a list index or a hash key (``metadata[0]``
is a valid metadata key), so a node whose keys are exactly ``0, 1, ..., n-1`` comes back as a
list, any other node as a dict; :func:`as_mapping` turns such a list back into its hash, and
:func:`as_list` refuses a hash whose indices have gaps or run out of order. What is wrong
whatever the schema is refused at once, naming the parameter: unbalanced brackets, a name used
both as a value and as a hash or list, ``a[]`` mixed with ``a[key]``, a value given twice,
nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_FIELDS` fields, bad UTF-8.

The readers (:func:`to_integer`, :func:`to_boolean`, :func:`to_enum`, :func:`to_string`,
:func:`merge_metadata`, ...) read a decoded value as Stripe does — integers and booleans
arrive as strings — and raise the error Stripe answers, with its code and message.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlencode

from pytest_paysim.errors import ParameterInvalid, ParameterMissing, ParameterUnknown
from pytest_paysim.stripe.errors import (
    ParameterInvalidEmpty,
    ParameterInvalidInteger,
    ParameterInvalidStringEmpty,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_FIELDS",
    "METADATA_KEYS",
    "METADATA_KEY_LENGTH",
    "METADATA_VALUE_LENGTH",
    "FormValue",
    "as_list",
    "as_mapping",
    "child",
    "decode",
    "decode_pairs",
    "encode",
    "merge_metadata",
    "reject_unknown",
    "require",
    "to_boolean",
    "to_enum",
    "to_integer",
    "to_string",
    "to_string_list",
]

FormValue: TypeAlias = "str | list[FormValue] | dict[str, FormValue]"
"""A decoded parameter: a string, or a list or dict of them, nested."""

MAX_FIELDS = 1000
"""Most ``name=value`` pairs in one body or query string."""
MAX_DEPTH = 8
"""Most bracket levels after a name (Stripe's deepest parameters use five or six)."""
METADATA_KEYS = 50
METADATA_KEY_LENGTH = 40
METADATA_VALUE_LENGTH = 500

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"0|[1-9][0-9]*")
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_INT64 = 2**63


# -- decoding ------------------------------------------------------------------------------


def decode(data: str | bytes) -> dict[str, FormValue]:
    """The parameters of a body or query string, nested as its bracket names say."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ParameterInvalid(
                "Invalid request: the parameters are not valid UTF-8; percent-encode UTF-8 "
                "text (application/x-www-form-urlencoded)."
            ) from None
    else:
        text = data
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ParameterInvalid(
                "Invalid request: the parameters hold a lone surrogate, which is not text."
            ) from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise ParameterInvalid(
            "Invalid request: a percent-encoded parameter is not valid UTF-8."
        ) from None
    except ValueError:
        raise ParameterInvalid(
            f"Invalid request: more than {MAX_FIELDS} parameters; send fewer."
        ) from None
    return decode_pairs(pairs)


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, FormValue]:
    """Nest already split and unquoted ``(name, value)`` pairs (as ``parse_qsl`` gives)."""
    root: dict[str, Any] = {}
    for count, (name, value) in enumerate(pairs, 1):
        if count > MAX_FIELDS:
            raise ParameterInvalid(
                f"Invalid request: more than {MAX_FIELDS} parameters; send fewer."
            )
        _place(root, _split(name), value)
    return {key: _finish(node) for key, node in root.items()}


def _split(name: str) -> list[str]:
    """``"a[b][0][]"`` → ``["a", "b", "0", ""]``, or the 400 for a malformed name."""
    if name and "[" not in name and "]" not in name:
        return [name]  # most names: no regex, nothing to check
    shown = _shown(name)
    match = _NAME.fullmatch(name)
    if match is None:
        if not name or name.startswith("["):
            problem = "has no name before its brackets" if name else "has no name"
        else:
            problem = "has unbalanced brackets"
        raise ParameterInvalid(
            f"Invalid parameter name {shown!r}: it {problem}; write names as "
            "name, name[key], name[0] or name[].",
            param=shown or None,
        )
    segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if len(segments) - 1 > MAX_DEPTH:
        raise ParameterInvalid(
            f"Invalid parameter name {shown}: nested {len(segments) - 1} levels deep; at "
            f"most {MAX_DEPTH} levels are accepted.",
            param=shown,
        )
    if "" in segments[1:-1]:
        raise ParameterInvalid(
            f"Invalid parameter name {shown}: `[]` can only come last; give list items "
            "their index, as in items[0][price].",
            param=shown,
        )
    return segments


def _place(root: dict[str, Any], segments: list[str], value: str) -> None:
    node: dict[str, Any] | list[Any] = root
    for depth, segment in enumerate(segments):
        if isinstance(node, list):
            # Only ``name[]`` leads to a list, and ``[]`` comes last: append the value.
            node.append(value)
            return
        existing = node.get(segment)
        if depth == len(segments) - 1:
            if existing is not None:
                raise _conflict(_path(segments[: depth + 1]), existing, "a value")
            node[segment] = value
            return
        wants_list = segments[depth + 1] == ""
        if existing is None:
            existing = [] if wants_list else {}
            node[segment] = existing
        elif isinstance(existing, str):
            path = _path(segments[: depth + 1])
            raise _conflict(path, existing, "a list" if wants_list else "a hash")
        elif isinstance(existing, list) != wants_list:
            raise _mixed(_path(segments[: depth + 1]))
        node = existing


def _conflict(path: str, existing: Any, wanted: str) -> ParameterInvalid:
    if isinstance(existing, str) and wanted == "a value":
        return ParameterInvalid(
            f"Invalid parameter {path}: it is given more than once; give it once.", param=path
        )
    was = "a value" if isinstance(existing, str) else "a hash or list"
    return ParameterInvalid(
        f"Invalid parameter {path}: it is given both as {was} and as {wanted}; give one.",
        param=path,
    )


def _mixed(path: str) -> ParameterInvalid:
    return ParameterInvalid(
        f"Invalid parameter {path}: it mixes {path}[] with {path}[key]; use one form (indices "
        f"{path}[0], {path}[1], ... for a list).",
        param=path,
    )


class _IndexedList(list):  # type: ignore[type-arg]
    """A list decoded from a hash whose keys are ``0`` .. ``n-1`` (``m[0]=a``): it may be
    read back as that hash (:func:`as_mapping`), which a ``m[]=a`` list may not."""

    __slots__ = ()


def _finish(node: Any) -> FormValue:
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return [_finish(item) for item in node]
    items = {key: _finish(value) for key, value in node.items()}
    # Keys exactly "0" .. "n-1" (in any order): a list. No int() of a key, however long.
    if all(str(index) in items for index in range(len(items))):
        return _IndexedList(items[str(index)] for index in range(len(items)))
    return items


def _path(segments: list[str]) -> str:
    return segments[0] + "".join(f"[{segment}]" for segment in segments[1:])


def _shown(name: str) -> str:
    return name if len(name) <= 100 else name[:97] + "..."


# -- encoding ------------------------------------------------------------------------------


def encode(params: Mapping[str, Any]) -> str:
    """``params`` as stripe-python sends them: lists indexed, booleans ``true``/``false``.

    ``None`` values and empty lists and dicts send nothing, as in the SDK; brackets stay
    unescaped, as the SDK leaves them. (The SDK writes a boolean *directly inside a list* as
    ``True``; this writes ``true`` everywhere.)
    """
    pairs = list(_flatten(params, ""))
    return urlencode(pairs).replace("%5B", "[").replace("%5D", "]")


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"form keys are strings, not {type(key).__name__}: {key!r}")
            yield from _flatten(item, f"{prefix}[{key}]" if prefix else key)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    elif value is None:
        return
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        yield prefix, str(value)
    else:
        raise TypeError(f"cannot form-encode {type(value).__name__} at {prefix!r}")


# -- reading parameters ----------------------------------------------------------------------


def child(param: str, key: str | int) -> str:
    """The name Stripe gives a nested parameter: ``child("card", "number")`` → ``card[number]``."""
    return f"{param}[{key}]"


def require(params: Mapping[str, FormValue], name: str, *, prefix: str = "") -> FormValue:
    """``params[name]``, or 400 ``parameter_missing`` (``Missing required param: name.``)."""
    value = params.get(name)
    if value is None:
        shown = child(prefix, name) if prefix else name
        raise ParameterMissing(f"Missing required param: {shown}.", param=shown)
    return value


def reject_unknown(
    params: Mapping[str, FormValue], known: Collection[str], *, prefix: str = ""
) -> None:
    """400 ``parameter_unknown`` for any key not in ``known`` (Stripe's message, all named)."""
    unknown = [child(prefix, key) if prefix else key for key in params if key not in known]
    if not unknown:
        return
    if len(unknown) == 1:
        message = f"Received unknown parameter: {_shown(unknown[0])}"
    else:
        message = "Received unknown parameters: " + ", ".join(_shown(name) for name in unknown)
    raise ParameterUnknown(message, param=_shown(unknown[0]))


def _empty(param: str) -> ParameterInvalidEmpty:
    return ParameterInvalidEmpty(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        param=param,
    )


def _kind(value: FormValue) -> str:
    return "a list" if isinstance(value, list) else "a hash"


def to_integer(
    value: FormValue,
    param: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number sent as a string (``"2000"``); 400 ``parameter_invalid_integer``."""
    if value == "":
        raise _empty(param)
    if not isinstance(value, str):
        raise ParameterInvalidInteger(
            f"Invalid integer: {param} must be a whole number, not {_kind(value)}.", param=param
        )
    if not _INTEGER.fullmatch(value) or not -_INT64 <= int(value) < _INT64:
        raise ParameterInvalidInteger(f"Invalid integer: {value[:40]}", param=param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise ParameterInvalidInteger(
            f"This value must be greater than or equal to {minimum}.", param=param
        )
    if maximum is not None and number > maximum:
        raise ParameterInvalidInteger(
            f"This value must be less than or equal to {maximum}.", param=param
        )
    return number


def to_boolean(value: FormValue, param: str) -> bool:
    """``"true"`` or ``"false"``, as the SDKs send booleans; anything else is 400."""
    if value == "":
        raise _empty(param)
    if value == "true":
        return True
    if value == "false":
        return False
    shown = value[:40] if isinstance(value, str) else _kind(value)
    raise ParameterInvalid(f"Invalid boolean: {shown}; pass true or false.", param=param)


def to_enum(value: FormValue, param: str, choices: Collection[str]) -> str:
    """One of ``choices``; otherwise Stripe's ``Invalid param: must be one of a, b, or c``."""
    if value == "":
        raise _empty(param)
    if isinstance(value, str) and value in choices:
        return value
    options = list(choices)
    listed = (
        options[0]
        if len(options) == 1
        else ", ".join(options[:-1]) + f"{',' if len(options) > 2 else ''} or {options[-1]}"
    )
    raise ParameterInvalid(f"Invalid {param}: must be one of {listed}", param=param)


def to_string(
    value: FormValue,
    param: str,
    *,
    max_length: int | None = None,
    unsettable: bool = False,
) -> str | None:
    """A string of at most ``max_length`` characters.

    An empty string unsets the parameter where Stripe allows that (``unsettable``: None is
    returned) and is 400 ``parameter_invalid_empty`` elsewhere.
    """
    if value == "":
        if unsettable:
            return None
        raise _empty(param)
    if not isinstance(value, str):
        raise ParameterInvalid(
            f"Invalid string: {param} must be a string, not {_kind(value)}.", param=param
        )
    if max_length is not None and len(value) > max_length:
        raise ParameterInvalid(
            f"Invalid string: {param} must be at most {max_length} characters; it has "
            f"{len(value)}.",
            param=param,
        )
    return value


def to_string_list(value: FormValue, param: str, *, max_length: int | None = None) -> list[str]:
    """A list of non-empty strings (``name[]=a&name[]=b`` or indexed); ``""`` is the empty list."""
    items = as_list(value, param)
    result: list[str] = []
    for index, item in enumerate(items):
        name = child(param, index)
        if item == "":
            raise ParameterInvalidStringEmpty(
                f"Invalid {name}: it is an empty string; give a non-empty value.", param=name
            )
        text = to_string(item, name, max_length=max_length)
        assert text is not None
        result.append(text)
    return result


def as_list(value: FormValue, param: str) -> list[FormValue]:
    """A list parameter: a list, an indexed hash (indices in order, from 0), or ``""`` (empty)."""
    if isinstance(value, list):
        return value
    if value == "":
        return []
    if isinstance(value, dict) and value and all(_INDEX.fullmatch(key) for key in value):
        ordered = sorted(value, key=lambda key: (len(key), key))  # numeric order, no int()
        for position, key in enumerate(ordered):
            if key != str(position):
                raise ParameterInvalid(
                    f"Invalid array: {param} has index {_shown(key)} but no index {position}; "
                    "number list items 0, 1, 2, ... in order.",
                    param=_shown(child(param, key)),
                )
        return [value[key] for key in ordered]
    raise ParameterInvalid(
        f"Invalid array: {param} must be a list ({param}[]=... or {param}[0]=...), not "
        f"{'a hash' if isinstance(value, dict) else 'a single value'}.",
        param=param,
    )


def as_mapping(value: FormValue, param: str) -> dict[str, FormValue]:
    """A hash parameter; a list decoded from indices is the hash of its indices
    (``m[0]=a`` is key "0"), and a ``m[]=a`` list is refused: it has no keys."""
    if isinstance(value, dict):
        return value
    if isinstance(value, _IndexedList):
        return {str(index): item for index, item in enumerate(value)}
    given = "a list" if isinstance(value, list) else "a single value"
    raise ParameterInvalid(
        f"Invalid object: {param} takes keys ({param}[key]=...), not {given}.",
        param=param,
    )


def merge_metadata(
    current: Mapping[str, str], update: FormValue, param: str = "metadata"
) -> dict[str, str]:
    """``current`` metadata after Stripe's update rules; use ``{}`` as ``current`` on create.

    Keys merge; an empty value removes its key; ``metadata=""`` removes them all. At most
    :data:`METADATA_KEYS` keys, keys up to :data:`METADATA_KEY_LENGTH` characters, values up
    to :data:`METADATA_VALUE_LENGTH`.
    """
    if update == "":
        return {}
    result = dict(current)
    for key, value in as_mapping(update, param).items():
        name = child(param, key)
        if not isinstance(value, str):
            raise ParameterInvalid(
                f"Invalid value for {name}: metadata values are strings, not {_kind(value)}.",
                param=name,
            )
        if len(key) > METADATA_KEY_LENGTH:
            raise ParameterInvalid(
                f"Metadata keys can have up to {METADATA_KEY_LENGTH} characters, but you "
                f"passed in a key that is {len(key)} characters: {_shown(key)!r}.",
                param=_shown(name),
            )
        if len(value) > METADATA_VALUE_LENGTH:
            raise ParameterInvalid(
                f"Metadata values can have up to {METADATA_VALUE_LENGTH} characters, but you "
                f"passed in a value that is {len(value)} characters (key {_shown(key)!r}).",
                param=_shown(name),
            )
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    if len(result) > METADATA_KEYS:
        raise ParameterInvalid(
            f"Metadata can have up to {METADATA_KEYS} keys, but this would leave "
            f"{len(result)}; remove some (an empty value removes a key).",
            param=param,
        )
    return result
