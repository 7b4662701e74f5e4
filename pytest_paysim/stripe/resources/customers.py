"""Customers: create, retrieve, update, delete and list (``email`` filters), newest first.

A deleted customer still answers a retrieve, as ``{"id", "object": "customer", "deleted":
true}`` (Stripe's answer); it is never listed, changed, deleted again or named by an intent.
Each change emits ``customer.created``, ``customer.updated`` or ``customer.deleted``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_paysim.errors import ResourceMissing as NativeResourceMissing
from pytest_paysim.stripe import forms, objects, views
from pytest_paysim.stripe.errors import EmailInvalid, ResourceMissing
from pytest_paysim.stripe.forms import FormValue
from pytest_paysim.stripe.resources import common
from pytest_paysim.stripe.resources.common import Answer, Request

__all__ = [
    "create_customer",
    "delete_customer",
    "list_customers",
    "retrieve_customer",
    "update_customer",
]

_MAX_LENGTHS = {"email": 512, "name": 256, "description": 5000, "phone": 20}
"""The customer's string fields, with the longest value Stripe takes for each."""


def create_customer(request: Request) -> Answer:
    """``POST /v1/customers`` (``email``, ``name``, ``description``, ``phone``, ``metadata``)."""
    params = request.params
    forms.reject_unknown(params, (*_MAX_LENGTHS, "metadata", "expand"))
    common.expand(params, ())
    fields = _fields(params)
    metadata = common.metadata(params)
    customer = request.sim.create_customer(dialect="stripe", metadata=metadata, **fields)
    return 200, views.customer(customer)


def retrieve_customer(request: Request) -> Answer:
    """``GET /v1/customers/{id}``; a deleted customer is ``{"deleted": true}``."""
    forms.reject_unknown(request.params, ("expand",))
    common.expand(request.params, ())
    customer_id = request.args["id"]
    try:
        customer = request.sim.get_customer(customer_id)
    except NativeResourceMissing:
        raise ResourceMissing("customer", customer_id) from None
    if customer.dialect != "stripe":
        raise ResourceMissing("customer", customer_id)
    return 200, views.customer(customer)


def update_customer(request: Request) -> Answer:
    """``POST /v1/customers/{id}``: the fields of a create; ``metadata`` merges (an empty value
    removes a key, ``metadata=""`` all of them); an empty string unsets a field."""
    params = request.params
    forms.reject_unknown(params, (*_MAX_LENGTHS, "metadata", "expand"))
    common.expand(params, ())
    sim = request.sim
    customer = common.customer(sim, request.args["id"])
    changes: dict[str, object] = dict(_fields(params))
    merged = common.metadata(params, customer.metadata)
    if merged is not None:
        # The core merges too: every old key emptied (removed), then the merged ones set.
        changes["metadata"] = {**dict.fromkeys(customer.metadata, ""), **merged}
    return 200, views.customer(sim.update_customer(customer.id, **changes))


def delete_customer(request: Request) -> Answer:
    """``DELETE /v1/customers/{id}``: ``{"id", "object": "customer", "deleted": true}``; its
    payment methods are detached."""
    forms.reject_unknown(request.params, ())
    sim = request.sim
    customer = common.customer(sim, request.args["id"])
    sim.delete_customer(customer.id)
    return 200, objects.deleted("customer", customer.id)


def list_customers(request: Request) -> Answer:
    """``GET /v1/customers``, newest first (``email`` filters: the exact address)."""
    params = request.params
    forms.reject_unknown(params, ("email", "limit", "starting_after", "ending_before", "expand"))
    common.expand(params, ())
    sim = request.sim
    email = common.string(params, "email", max_length=_MAX_LENGTHS["email"])
    customers = common.scan(
        lambda limit, after: sim.customers(
            limit=limit, starting_after=after, email=email, dialect="stripe"
        )
    )
    items = [views.customer(customer) for customer in customers]
    return 200, common.page(items, params, "/v1/customers")


def _fields(params: Mapping[str, FormValue]) -> dict[str, str | None]:
    """The string fields given (None: unset with an empty string); ``email`` checked."""
    fields = {
        name: common.string(params, name, max_length=longest, unsettable=True)
        for name, longest in _MAX_LENGTHS.items()
        if name in params
    }
    email = fields.get("email")
    if email is not None and not common.looks_like_email(email):
        raise EmailInvalid(email)
    return fields
