"""The two ways a test reaches its simulator: in this process, or over HTTP.

:class:`LocalBackend` drives a :class:`~pytest_paysim.server.PaysimServer` running in this
process directly (a reset costs microseconds); :class:`RemoteBackend` drives a running
``paysim serve`` through its ``/_paysim`` control routes. The ``paysim`` fixture and the
webhook log talk to either through the same methods.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any, Protocol

from pytest_paysim.core.calls import Call
from pytest_paysim.core.clock import format_time, parse_time
from pytest_paysim.core.faults import Fault
from pytest_paysim.core.models import DeliveryAttempt
from pytest_paysim.errors import ConfigurationError
from pytest_paysim.server import PaysimClient, PaysimServer
from pytest_paysim.stripe.app import PREFIX as STRIPE_PREFIX
from pytest_paysim.webhooks.log import Delivery, parse_sent_at

__all__ = ["Backend", "LocalBackend", "RemoteBackend", "RemoteServer", "RunningServer"]


class RunningServer(Protocol):
    """What the ``paysim_server`` fixture is: a ``PaysimServer`` this process started, or a
    ``RemoteServer`` (``--paysim-url``); both have these members."""

    @property
    def url(self) -> str: ...
    @property
    def stripe_url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def publishable_key(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def webhook_secret(self) -> str: ...
    @property
    def webhook_public_key(self) -> str | None: ...
    @property
    def stripe_webhook_secret(self) -> str: ...
    @property
    def client(self) -> PaysimClient: ...

    seed: int
    ca_file: str | None

    def url_for(self, path: str) -> str: ...


class Backend(Protocol):
    """What the ``paysim`` fixture needs from a simulator."""

    client: PaysimClient
    local: bool

    def reset(self, **settings: Any) -> None: ...
    def force_outcome(
        self,
        outcome: str,
        *,
        payment_id: str | None,
        times: int | None,
        decline_code: str | None,
        required: bool,
    ) -> None: ...
    def force_refund_outcome(self, outcome: str, *, times: int | None, required: bool) -> None: ...
    def add_fault(self, fault: Fault) -> None: ...
    def clear_faults(self) -> None: ...
    def clear_outcomes(self) -> None: ...
    def rules(self) -> dict[str, list[dict[str, Any]]]:
        """The rules in force: ``faults``, ``outcomes``, ``refund_outcomes`` (with ``used``)."""
        ...

    def clock_now(self) -> float: ...
    def clock_frozen(self) -> bool: ...
    def clock_freeze(self, at: float | None) -> float: ...
    def clock_advance(self, seconds: float) -> float: ...
    def clock_unfreeze(self) -> float: ...
    def rotate_webhook_secret(self) -> str: ...
    def webhook_secret(self) -> str: ...
    def webhook_public_key(self) -> str: ...
    def stripe_webhook_secret(self) -> str: ...
    def unexpected_errors(self) -> list[str]: ...
    def calls(self) -> list[Call]: ...
    def deliveries(self) -> list[Delivery]: ...
    def wait_for_change(self, known: int, timeout: float) -> None: ...
    def busy(self) -> bool: ...


def _delivery(attempt: DeliveryAttempt) -> Delivery:
    return Delivery(
        id=attempt.id,
        event_id=attempt.event_id,
        type=attempt.type,
        url=attempt.url,
        attempt=attempt.attempt,
        headers=dict(attempt.headers),
        body=attempt.body,
        status_code=attempt.status_code,
        error=attempt.error,
        succeeded=attempt.succeeded,
        sent_at=parse_sent_at(None if attempt.sent_at is None else format_time(attempt.sent_at)),
        verify_key=attempt.signed_with,
    )


class LocalBackend:
    """A server in this process, driven through its simulator's methods."""

    local = True

    def __init__(self, server: PaysimServer) -> None:
        assert server.simulator is not None and server.app is not None
        self.server = server
        self.sim = server.simulator
        self.app = server.app
        self.client = server.client
        self._cache: dict[str, Delivery] = {}
        self._cache_generation = -1

    def reset(self, **settings: Any) -> None:
        self.sim.reset(**settings)

    def force_outcome(
        self,
        outcome: str,
        *,
        payment_id: str | None,
        times: int | None,
        decline_code: str | None,
        required: bool,
    ) -> None:
        self.sim.force_outcome(
            outcome,
            payment_id=payment_id,
            times=times,
            decline_code=decline_code,
            required=required,
        )

    def force_refund_outcome(self, outcome: str, *, times: int | None, required: bool) -> None:
        self.sim.force_refund_outcome(outcome, times=times, required=required)

    def add_fault(self, fault: Fault) -> None:
        self.sim.add_fault(fault)

    def clear_faults(self) -> None:
        self.sim.clear_faults()

    def clear_outcomes(self) -> None:
        self.sim.clear_outcomes()

    def rules(self) -> dict[str, list[dict[str, Any]]]:
        return {"faults": self.sim.faults(), **self.sim.outcomes()}

    def clock_now(self) -> float:
        return self.sim.clock.now()

    def clock_frozen(self) -> bool:
        return self.sim.clock.frozen

    def clock_freeze(self, at: float | None) -> float:
        return self.sim.clock.freeze(at)

    def clock_advance(self, seconds: float) -> float:
        return self.sim.clock.advance(seconds)

    def clock_unfreeze(self) -> float:
        return self.sim.clock.unfreeze()

    def rotate_webhook_secret(self) -> str:
        return self.sim.rotate_webhook_secret()

    def webhook_secret(self) -> str:
        return self.sim.webhook_secret

    def webhook_public_key(self) -> str:
        return self.sim.webhook_public_key

    def stripe_webhook_secret(self) -> str:
        return self.sim.hmac_webhook_secret

    def unexpected_errors(self) -> list[str]:
        return self.sim.unexpected_errors()

    def calls(self) -> list[Call]:
        return self.sim.calls()

    def deliveries(self) -> list[Delivery]:
        generation = self.sim.generation
        attempts = self.sim.attempts()
        if self.sim.generation != generation:
            return []  # a reset came in between: nothing of the old run may show
        if generation != self._cache_generation:
            self._cache = {}
            self._cache_generation = generation
        cache = self._cache
        result = []
        for attempt in attempts:
            delivery = cache.get(attempt.id)
            if delivery is None:
                delivery = cache[attempt.id] = _delivery(attempt)
            result.append(delivery)
        return result

    def wait_for_change(self, known: int, timeout: float) -> None:
        self.sim.wait_for_attempts(known, timeout)

    def busy(self) -> bool:
        return self.sim.busy()


class RemoteServer:
    """A running ``paysim serve``, with the same members tests use on ``PaysimServer``."""

    def __init__(self, url: str, api_key: str, *, ca_file: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.ca_file = ca_file
        self.api_key = api_key
        self.client = PaysimClient(self.url, api_key, verify=ca_file or True)
        response = self.client.get("/_paysim/state", timeout=10)
        if response.status_code != 200:
            raise ConfigurationError(
                f"the paysim server at {self.url} answered {response.status_code} to the "
                "control API; check --paysim-url and --paysim-api-key"
            )
        state = response.json()
        self.seed: int = state["seed"]
        self._state = state

    @property
    def stripe_url(self) -> str:
        """Where the server's Stripe dialect answers: ``<url>/stripe``."""
        return self.url + STRIPE_PREFIX

    @property
    def publishable_key(self) -> str:
        """The server's publishable key (``pk_test_...``)."""
        return str(self._state["publishable_key"])

    def remember(self, state: dict[str, Any]) -> None:
        """Keep the control state a reset or rotation answered with (scheme, secrets)."""
        self._state = state

    @property
    def signature(self) -> str:
        """The scheme in force, as of the last reset or rotation."""
        return str(self._state["signature"])

    @property
    def webhook_secret(self) -> str:
        return str(self._state["webhook_secret"])

    @property
    def webhook_public_key(self) -> str | None:
        if self.signature != "ed25519":
            return None
        return str(self._state["webhook_public_key"])

    @property
    def stripe_webhook_secret(self) -> str:
        return str(self._state["stripe_webhook_secret"])

    def url_for(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    def stop(self) -> None:
        self.client.close()


class RemoteBackend:
    """A running ``paysim serve``, driven through its control routes."""

    local = False

    def __init__(self, server: RemoteServer) -> None:
        self.server = server
        self.client = server.client
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._generation = -1

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.request(method, path, json=body, timeout=10)
        if response.status_code != 200:
            raise ConfigurationError(
                f"{method} {path} on the paysim server failed: {response.status_code} "
                f"{response.text[:500]}"
            )
        return response.json()

    def reset(self, **settings: Any) -> None:
        body = {name: value for name, value in settings.items() if value is not None}
        if "frozen_at" in body:
            body["clock"] = format_time(body.pop("frozen_at"))
        state = self._control("POST", "/_paysim/reset", body)
        self.server.remember(state)
        with self._lock:
            self._deliveries = []
            self._generation = state["generation"]

    def force_outcome(
        self,
        outcome: str,
        *,
        payment_id: str | None,
        times: int | None,
        decline_code: str | None,
        required: bool,
    ) -> None:
        body: dict[str, Any] = {"outcome": outcome, "times": times, "required": required}
        if payment_id is not None:
            body["payment_id"] = payment_id
        if decline_code is not None:
            body["decline_code"] = decline_code
        self._control("POST", "/_paysim/outcomes", body)

    def force_refund_outcome(self, outcome: str, *, times: int | None, required: bool) -> None:
        self._control(
            "POST",
            "/_paysim/outcomes",
            {"refund_outcome": outcome, "times": times, "required": required},
        )

    def add_fault(self, fault: Fault) -> None:
        body = {name: value for name, value in fault.to_dict().items() if value is not None}
        body["times"] = fault.times
        del body["used"]
        self._control("POST", "/_paysim/faults", body)

    def clear_faults(self) -> None:
        self._control("DELETE", "/_paysim/faults")

    def clear_outcomes(self) -> None:
        self._control("DELETE", "/_paysim/outcomes")

    def rules(self) -> dict[str, list[dict[str, Any]]]:
        state = self._control("GET", "/_paysim/state")
        return {name: state[name] for name in ("faults", "outcomes", "refund_outcomes")}

    def _clock(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if body is None:
            result: dict[str, Any] = self._control("GET", "/_paysim/clock")
        else:
            result = self._control("POST", "/_paysim/clock", body)
        return result

    def clock_now(self) -> float:
        return parse_time(self._clock()["now"])

    def clock_frozen(self) -> bool:
        return bool(self._clock()["frozen"])

    def clock_freeze(self, at: float | None) -> float:
        return parse_time(self._clock({"freeze": None if at is None else format_time(at)})["now"])

    def clock_advance(self, seconds: float) -> float:
        return parse_time(self._clock({"advance": seconds})["now"])

    def clock_unfreeze(self) -> float:
        return parse_time(self._clock({"unfreeze": True})["now"])

    def rotate_webhook_secret(self) -> str:
        state = self._control("POST", "/_paysim/rotate_webhook_secret", {})
        self.server.remember(state)
        return str(state["webhook_secret"])

    def webhook_secret(self) -> str:
        return str(self._control("GET", "/_paysim/state")["webhook_secret"])

    def webhook_public_key(self) -> str:
        return str(self._control("GET", "/_paysim/state")["webhook_public_key"])

    def stripe_webhook_secret(self) -> str:
        return str(self._control("GET", "/_paysim/state")["stripe_webhook_secret"])

    def unexpected_errors(self) -> list[str]:
        return list(self._control("GET", "/_paysim/state")["unexpected_errors"])

    def calls(self) -> list[Call]:
        return [Call.from_dict(item) for item in self._control("GET", "/_paysim/calls")["data"]]

    def deliveries(self) -> list[Delivery]:
        items = self._control("GET", "/_paysim/deliveries")["data"]
        with self._lock:
            known = len(self._deliveries)
            for item in items[known:]:
                self._deliveries.append(
                    Delivery(
                        id=item["id"],
                        event_id=item["event_id"],
                        type=item["type"],
                        url=item["url"],
                        attempt=item["attempt"],
                        headers=item["headers"],
                        body=base64.b64decode(item["body_base64"]),
                        status_code=item["status_code"],
                        error=item["error"],
                        succeeded=item["succeeded"],
                        sent_at=parse_sent_at(item["sent_at"]),
                        verify_key=item.get("signed_with"),
                    )
                )
            return list(self._deliveries)

    def wait_for_change(self, known: int, timeout: float) -> None:
        time.sleep(min(timeout, 0.02))

    def busy(self) -> bool:
        return bool(self._control("GET", "/_paysim/state")["deliveries_busy"])
