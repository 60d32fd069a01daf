"""The hub's delivery worker: at-least-once POSTs of the outbox to the subscribers' callbacks.

One **round** (:meth:`Deliverer.deliver_round`):

1. **claim** — in a short transaction, the oldest pending delivery of each subscription that is
   due (``next_attempt_at`` passed, no live lease) is selected ``FOR UPDATE SKIP LOCKED`` and
   leased to this worker (``lease_owner``, ``lease_until``) with its attempt counted; the
   transaction commits at once, so no database lock is held while a callback is called;
2. **send** — each claimed event is POSTed (concurrently across subscriptions) with its body
   exactly as the outbox holds it and the headers below;
3. **settle** — a 2xx marks it ``delivered``; anything else (an error status, a refused
   connection, a timeout) schedules the next attempt after an exponential
   backoff (``retry_base`` * 2^(attempts-1), at most ``retry_cap``); after ``max_attempts`` the
   delivery is ``failed`` (kept, with its last error) and the subscription's next event goes.
   Settling is conditional on still holding the lease.

**Order.** A subscription receives its events in chain order: only its oldest undelivered
event is ever in flight, so a failing callback holds its later events back until it answers
or the event fails for good.

**Crashes.** A worker killed between the claim and the settle leaves its leased rows
``pending``; when the lease ends (``lease_seconds``, longer than the HTTP timeout) any worker
claims and sends them again — or at once, when the gateway restarts under the same ``replica``
name (its start-up releases the leases that name holds). Nothing is lost; the one duplicate possible is an event the
callback received but whose success was never recorded — with the same ``eventId`` and
body, for the subscriber to de-duplicate.

**Replicas.** Several gateways against one PostgreSQL index share the outbox: ``SKIP LOCKED``
makes concurrent claims take disjoint rows, and a leased row is not claimable, so no event is
sent twice while its lease lives. SQLite has no row locks: run **one** gateway per SQLite
index (its single writer makes claims safe within one process).

Headers of every POST::

    Content-Type: application/json
    X-Telcochain-Event-Id: <eventId>
    X-Telcochain-Timestamp: <UNIX seconds of this attempt>
    X-Telcochain-Attempt: <1, 2, ...>
    X-Telcochain-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The subscriber recomputes the HMAC with the secret it was given at registration and rejects
a signature that differs or a timestamp too old (replay) — :func:`verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from telcochain.gateway.outbox import PASS_LIMIT, checkpoint_of, derive, now_ms
from telcochain.index import schema as s
from telcochain.index.schema import DeliveryStatus
from telcochain.index.store import IndexStore

log = logging.getLogger("telcochain.gateway.hub")

SIGNATURE_HEADER = "X-Telcochain-Signature"
TIMESTAMP_HEADER = "X-Telcochain-Timestamp"
EVENT_ID_HEADER = "X-Telcochain-Event-Id"
ATTEMPT_HEADER = "X-Telcochain-Attempt"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a subscriber does: the signature matches and the timestamp is recent."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        stamp = int(lower[TIMESTAMP_HEADER.lower()])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), lower.get(SIGNATURE_HEADER.lower(), ""))


@dataclass(frozen=True)
class HubSettings:
    """The ``hub:`` section of the gateway config (all optional)."""

    enabled: bool = True
    poll_interval: float = 0.1  # seconds between rounds when idle
    http_timeout: float = 5.0
    lease_seconds: float = 30.0  # > http_timeout: a dead worker's claims come back after this
    retry_base: float = 1.0
    retry_cap: float = 300.0
    max_attempts: int = 12  # ~25 min of retries with the defaults, then "failed"
    batch: int = 16  # subscriptions served per round
    concurrency: int = 16  # callbacks in flight at once (a round lasts at most one http_timeout)
    #: This replica's stable name (unique among live replicas): a restarted gateway with the same
    #: name takes back its own leases at once instead of after ``lease_seconds``. "" = random.
    replica: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HubSettings:
        from telcochain.errors import ConfigurationError

        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            names = ", ".join(sorted(known))
            raise ConfigurationError(f"hub: unknown setting(s) {', '.join(unknown)} (known: {names})")
        defaults = cls()
        values: dict[str, Any] = {}
        for key, value in data.items():
            kind = type(getattr(defaults, key))
            if kind is bool and not isinstance(value, bool):
                raise ConfigurationError(f"hub: {key} must be true or false, not {value!r}")
            try:
                values[key] = kind(value)
            except (TypeError, ValueError):
                raise ConfigurationError(f"hub: {key} must be a {kind.__name__}, not {value!r}") from None
        settings = cls(**values)
        rounds = -(-settings.batch // max(settings.concurrency, 1))  # sends queued behind each other
        if settings.lease_seconds <= settings.http_timeout * rounds + 1:
            raise ConfigurationError("hub: lease_seconds must exceed http_timeout * ceil(batch / concurrency) + 1")
        if min(settings.poll_interval, settings.retry_base, settings.http_timeout) <= 0 or settings.max_attempts < 1:
            raise ConfigurationError("hub: intervals must be positive and max_attempts at least 1")
        return settings


@dataclass
class _Claim:
    subscription_id: str
    event_id: str
    attempts: int  # including this one
    callback: str
    secret: str
    body: str


class Deliverer:
    """Claims, sends and settles deliveries; :meth:`run` loops (derive pass + a round)."""

    def __init__(
        self,
        store: IndexStore,
        settings: HubSettings | None = None,
        *,
        owner: str | None = None,
        client: httpx.Client | None = None,
        before_round: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or HubSettings()
        self.owner = owner or self.settings.replica or f"hub-{uuid.uuid4().hex[:12]}"
        self.delivered = 0  # successful POSTs by this worker (for operators and tests)
        self.http = client or httpx.Client(timeout=self.settings.http_timeout)
        self.before_round = before_round
        self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="hub-send")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._derived_at: tuple[str | None, str | None] = (None, None)  # checkpoint of the last pass
        self._thread: threading.Thread | None = None

    # -- one round ------------------------------------------------------------------------

    def claim(self) -> list[_Claim]:
        d, later = s.hub_deliveries.c, aliased(s.hub_deliveries)
        now = now_ms()
        earlier_pending = exists().where(
            later.c.subscription_id == d.subscription_id,
            later.c.status == DeliveryStatus.PENDING,
            later.c.position < d.position,
        )
        with self.store.engine.begin() as connection:
            rows = connection.execute(
                select(d.subscription_id, d.event_id, d.attempts)
                .where(
                    d.status == DeliveryStatus.PENDING,
                    d.next_attempt_at <= now,
                    or_(d.lease_until.is_(None), d.lease_until < now),
                    ~earlier_pending,
                )
                .order_by(d.position)
                .limit(self.settings.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            lease = now + int(self.settings.lease_seconds * 1000)
            for row in rows:
                connection.execute(
                    update(s.hub_deliveries)
                    .where(d.subscription_id == row.subscription_id, d.event_id == row.event_id)
                    .values(lease_owner=self.owner, lease_until=lease, attempts=row.attempts + 1)
                )  # the attempt counts from the claim: a send cut short by a crash is counted too
            h = s.hub_subscriptions.c
            wanted = select(h.id, h.callback, h.secret).where(h.id.in_({r.subscription_id for r in rows}))
            subs = {r.id: r for r in connection.execute(wanted).all()}
            bodies = dict(
                connection.execute(
                    select(s.hub_outbox.c.event_id, s.hub_outbox.c.body).where(
                        s.hub_outbox.c.event_id.in_({r.event_id for r in rows})
                    )
                ).all()
            )
        return [
            _Claim(r.subscription_id, r.event_id, r.attempts + 1, subs[r.subscription_id].callback,
                   subs[r.subscription_id].secret, bodies[r.event_id])
            for r in rows
            if r.subscription_id in subs and r.event_id in bodies
        ]  # fmt: skip

    def send(self, claim: _Claim) -> str | None:
        """POST one event; None on success, else what went wrong."""
        body = claim.body.encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: claim.event_id,
            TIMESTAMP_HEADER: str(stamp),
            ATTEMPT_HEADER: str(claim.attempts),
            SIGNATURE_HEADER: sign(claim.secret, stamp, body),
        }
        try:
            answer = self.http.post(claim.callback, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"

    def settle(self, claim: _Claim, error: str | None) -> None:
        d = s.hub_deliveries.c
        attempts = claim.attempts
        now = now_ms()
        if error is None:
            self.delivered += 1
            values: dict[str, Any] = {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "last_error": None}
        else:
            delay = min(self.settings.retry_cap, self.settings.retry_base * 2 ** (attempts - 1))
            status = DeliveryStatus.FAILED if attempts >= self.settings.max_attempts else DeliveryStatus.PENDING
            values = {"status": status, "next_attempt_at": now + int(delay * 1000), "last_error": error}
            log.info("hub: %s to %s failed (attempt %d): %s", claim.event_id, claim.callback, attempts, error)
        with self.store.engine.begin() as connection:
            connection.execute(
                update(s.hub_deliveries)
                .where(
                    and_(d.subscription_id == claim.subscription_id, d.event_id == claim.event_id),
                    d.lease_owner == self.owner,
                    d.status == DeliveryStatus.PENDING,
                )
                .values(lease_owner=None, lease_until=None, **values)
            )

    def deliver_round(self) -> int:
        """Claim, send (concurrently), settle; the number of deliveries attempted."""
        claims = self.claim()
        if not claims:
            return 0
        futures = {self._pool.submit(self.send, claim): claim for claim in claims}
        for future in as_completed(futures):  # settled as each answers, well within the lease
            self.settle(futures[future], future.result())
        return len(claims)

    def tick(self) -> int:
        """A derive pass, then delivery rounds until nothing more is due now."""
        if self.before_round is not None:
            self.before_round()
        seen = checkpoint_of(self.store)
        if seen != self._derived_at:  # the index moved (or rolled back): derive what it added
            while derive(self.store) >= PASS_LIMIT and not self._stop.is_set():
                pass
            self._derived_at = seen
        total = 0
        while True:
            done = self.deliver_round()
            total += done
            if not done or self._stop.is_set():
                return total

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Tick until :meth:`stop`; errors are logged and retried (the database may be away)."""
        while not self._stop.is_set():
            try:
                worked = self.tick()
            except Exception:
                log.exception("hub worker round failed; retrying")
                worked = 0
            if not worked:
                self._wake.wait(self.settings.poll_interval)
                self._wake.clear()

    def kick(self) -> None:
        """Run a round now (the index just moved) instead of after the poll interval."""
        self._wake.set()

    def release_own_leases(self) -> int:
        """Free the leases this worker's name holds (its previous run was killed mid-delivery):
        those deliveries are sent again now. Only for a stable ``replica`` name."""
        d = s.hub_deliveries.c
        with self.store.engine.begin() as connection:
            result = connection.execute(
                update(s.hub_deliveries)
                .where(d.lease_owner == self.owner, d.status == DeliveryStatus.PENDING)
                .values(lease_owner=None, lease_until=None)
            )
        return int(result.rowcount or 0)

    def start(self) -> Deliverer:
        if self.settings.replica:
            released = self.release_own_leases()
            if released:
                log.info("hub: %d deliveries of the previous run of %s resume", released, self.owner)
        self._thread = threading.Thread(target=self.run, name="hub-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False)
        self.http.close()
