"""The session's secrets: the API keys, the webhook signing secrets, and their rotation.

The API key, the publishable key and both webhook secrets are drawn from the seed, so a seed
reproduces them. A persistent store keeps the webhook secrets (receivers keep verifying after a
restart) but never the keys: a restart gets its API key from ``--api-key`` or the seed again,
and its publishable key from the seed::

    secrets = Secrets.made(seed=7, api_key=None)
    secrets.signing("paysim", now)   # the current secret, then the rotated ones still valid
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_paysim.core.ids import IdGenerator, derive_seed
from pytest_paysim.core.signing import (
    RandomBytes,
    Scheme,
    generate_hmac_secret,
    generate_signing_key,
    public_key_for,
)

__all__ = ["ROTATION_GRACE_SECONDS", "STORED_SECRETS", "Secrets"]

ROTATION_GRACE_SECONDS = 24 * 3600
"""How long a rotated-out secret keeps signing."""

STORED_SECRETS = ("hmac_secret", "signing_key")
"""What a persistent store keeps across restarts (the API keys are not among them)."""


@dataclass
class Secrets:
    """The API keys and the webhook signing secrets (HMAC and Ed25519) of a session."""

    api_key: str
    hmac_secret: str
    signing_key: str
    publishable_key: str
    """The ``pk_test_`` key a browser sends with a payment intent's client secret (Stripe
    dialect); it opens nothing else."""
    previous: list[tuple[str, float]] = field(default_factory=list)
    """Secrets replaced by a rotation, with the simulator time at which they expire."""

    @classmethod
    def made(cls, *, seed: int, api_key: str | None) -> Secrets:
        """The secrets a seed gives (``api_key`` instead of the seed's key when given)."""
        rng = IdGenerator(derive_seed(seed, "secrets"))
        return cls(
            api_key=api_key or "sk_test_" + IdGenerator(derive_seed(seed, "api_key")).token(24),
            hmac_secret=generate_hmac_secret(rng),
            signing_key=generate_signing_key(rng),
            publishable_key="pk_test_"
            + IdGenerator(derive_seed(seed, "publishable_key")).token(24),
        )

    @property
    def public_key(self) -> str:
        """The ``whpk_`` key that verifies what ``signing_key`` signs."""
        return public_key_for(self.signing_key)

    def current(self, scheme: Scheme) -> str:
        """The secret that signs under ``scheme`` now (``whsk_`` under ed25519)."""
        return self.signing_key if scheme == "ed25519" else self.hmac_secret

    def signing(self, scheme: Scheme, now: float) -> tuple[str, ...]:
        """Every secret that signs under ``scheme`` at ``now``: current first, then rotated."""
        current = self.current(scheme)
        kind = _kind(current)
        still_valid = [s for s, expires in self.previous if expires > now and _kind(s) == kind]
        return (current, *still_valid)

    def rotate(self, scheme: Scheme, rng: RandomBytes, *, now: float, grace: float) -> str:
        """Replace the secret of ``scheme``; the old one keeps signing for ``grace`` seconds."""
        self.previous.append((self.current(scheme), now + grace))
        if scheme == "ed25519":
            self.signing_key = generate_signing_key(rng)
        else:
            self.hmac_secret = generate_hmac_secret(rng)
        return self.current(scheme)

    def restore(self, session: Secrets) -> None:
        """Back to ``session``'s webhook secrets, with no rotation (what a reset does)."""
        self.hmac_secret, self.signing_key = session.hmac_secret, session.signing_key
        self.previous.clear()


def _kind(secret: str) -> str:
    return secret.split("_", 1)[0]
