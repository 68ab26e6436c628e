"""Allowed origins kept in a database and managed while the service runs.

The request path never waits on the database. The CORS middleware reads an
in-memory :class:`OriginMatcher` built from the static policy plus the stored
origins; a background task rebuilds it every ``CORS_REGISTRY_REFRESH_SECONDS``
and a write made through this process rebuilds it at once. On PostgreSQL a
write also notifies every replica, which rebuilds it within a second
(``origin_notifications``); polling remains the fallback, so replicas that
share one database agree within one refresh interval at worst. The schema is
Alembic's (``schema``).

Stored origins obey the grammar and the safety rules of ``cors_policy``: a
write is checked before anything is stored, and a stored row that the running
environment refuses (``http://`` in production, say) is ignored and logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import DateTime, String, create_engine, delete, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from . import schema
from .cors_policy import CorsPolicy, OriginMatcher, PolicyError, check_origin_rules, normalise_origin
from .origin_notifications import announce, listen
from .settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)

ORIGIN_SETTING = "origin"
"""The name refusals give to an origin written to the registry."""


class Base(DeclarativeBase):
    pass


class StoredOrigin(Base):
    """One allowed origin entry, in canonical form."""

    __tablename__ = "cors_origins"

    origin: Mapped[str] = mapped_column(String(320), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class RefusedOriginsError(ValueError):
    """Entries that break the grammar or a rule; ``reasons`` maps each position to its message."""

    def __init__(self, reasons: dict[int, str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons.values()))


def database_url(text: str) -> URL:
    """Read ``DATABASE_URL``; a plain ``postgresql://`` URL uses psycopg 3."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise ConfigurationError(
            f"DATABASE_URL: {text!r} is not a database URL. "
            "Write sqlite:///origins.db or postgresql://user:password@host/database"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


class OriginStore:
    """The stored origins; each method is one short transaction."""

    def __init__(self, url: str | URL) -> None:
        url = database_url(url) if isinstance(url, str) else url
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as missing:
            raise ConfigurationError(
                f"DATABASE_URL: {url.render_as_string()!r} needs the {missing.name} package, which is not installed."
                " For PostgreSQL, install the project with its extra: pip install -e '.[postgresql]'"
            ) from None
        self.notifies = self.engine.dialect.name == "postgresql"
        """Whether writes notify the listening replicas (PostgreSQL only)."""
        self.writer = secrets.token_hex(8)
        """Names this store's writes in their notices, so its own registry skips them."""

    def create_schema(self) -> None:
        """Find the schema at the expected revision, or create it in an empty database."""
        schema.prepare(self.engine)

    def migrate(self) -> tuple[str | None, str]:
        """Upgrade the schema to the expected revision; return the revisions before and after."""
        return schema.migrate(self.engine)

    def _announce(self, session: Session) -> None:
        if self.notifies:
            announce(session.connection(), self.writer)

    def origins(self) -> list[str]:
        with Session(self.engine) as session:
            return list(session.scalars(select(StoredOrigin.origin).order_by(StoredOrigin.origin)))

    def stored_origins(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.scalars(select(StoredOrigin.origin)))

    def add(self, origins: Sequence[str]) -> list[str]:
        """Store the origins not stored yet, all or none; return the ones added."""
        try:
            return self._add_missing(origins)
        except IntegrityError:
            # Another writer stored one of them meanwhile: read again, once.
            return self._add_missing(origins)

    def _add_missing(self, origins: Sequence[str]) -> list[str]:
        with Session(self.engine) as session, session.begin():
            present = set(session.scalars(select(StoredOrigin.origin)))
            added = [origin for origin in dict.fromkeys(origins) if origin not in present]
            session.add_all(StoredOrigin(origin=origin) for origin in added)
            if added:
                self._announce(session)
        return added

    def remove(self, origins: Sequence[str]) -> list[str]:
        """Delete the given origins, all in one transaction; return the ones that were stored."""
        with Session(self.engine) as session, session.begin():
            wanted = set(origins)
            present = [o for o in session.scalars(select(StoredOrigin.origin)) if o in wanted]
            if present:
                session.execute(delete(StoredOrigin).where(StoredOrigin.origin.in_(present)))
                self._announce(session)
        return sorted(present)


def check_new_origins(entries: Iterable[str], policy: CorsPolicy) -> list[str]:
    """Canonical forms of entries allowed in ``policy``'s environment, or :class:`RefusedOriginsError`."""
    return _canonical(entries, policy)


def canonical_origins(entries: Iterable[str]) -> list[str]:
    """Canonical forms of entries to remove; only the grammar applies, or :class:`RefusedOriginsError`."""
    return _canonical(entries, None)


def _canonical(entries: Iterable[str], policy: CorsPolicy | None) -> list[str]:
    """Every entry through the grammar (and ``policy``'s rules when given); all refusals reported together."""
    origins: list[str] = []
    reasons: dict[int, str] = {}
    for position, entry in enumerate(entries):
        try:
            origin = normalise_origin(entry.strip(), ORIGIN_SETTING).text
            if policy is not None:
                check_rules(origin, policy)
        except PolicyError as error:
            reasons[position] = str(error)
        else:
            origins.append(origin)
    if reasons:
        raise RefusedOriginsError(reasons)
    return origins


def check_rules(origin: str, policy: CorsPolicy) -> None:
    check_origin_rules(
        [origin],
        environment=policy.environment,
        allow_credentials=policy.allow_credentials,
        setting=ORIGIN_SETTING,
        credentials_setting="CORS_ALLOW_CREDENTIALS",
    )


class OriginRegistry:
    """The service's view of the stored origins, kept in memory for the CORS middleware."""

    def __init__(self, store: OriginStore, policy: CorsPolicy, refresh_seconds: float) -> None:
        self.store = store
        self.policy = policy
        self.refresh_seconds = refresh_seconds
        self._matcher = policy.matcher()
        self._refusals: dict[str, str | None] = {}
        """Each stored origin in the snapshot, with the reason this environment refuses it (None: allowed)."""
        self._refresh_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, policy: CorsPolicy) -> OriginRegistry:
        """Open the configured database and load its origins; :class:`ConfigurationError` if its schema is refused."""
        registry = cls(OriginStore(settings.database_url), policy, settings.cors_registry_refresh_seconds)
        registry.store.create_schema()
        registry.refresh()
        return registry

    def matcher(self) -> OriginMatcher:
        """The matcher in force: static origins plus the last snapshot of the stored ones."""
        return self._matcher

    def refresh(self) -> None:
        """Read the stored origins and swap in a new matcher if they changed.

        Only origins new to the snapshot are checked, so an unchanged registry
        costs one query and a set comparison.
        """
        with self._refresh_lock:
            stored = self.store.stored_origins()
            if stored == self._refusals.keys():
                return
            known = self._refusals
            refusals = {origin: known[origin] if origin in known else self._refusal(origin) for origin in stored}
            for origin in sorted(stored - known.keys()):
                if refusals[origin]:
                    logger.warning("ignoring stored origin %r: %s", origin, refusals[origin])
            allowed = [origin for origin, refusal in refusals.items() if refusal is None]
            self._matcher = OriginMatcher((*self.policy.allow_origins, *allowed))
            self._refusals = refusals

    def add(self, entries: Iterable[str]) -> list[str]:
        """Check and store origins (all or none), then refresh; return the ones newly stored."""
        added = self.store.add(check_new_origins(entries, self.policy))
        self.refresh()
        return added

    def remove(self, entries: Iterable[str]) -> list[str]:
        """Delete origins, then refresh; return the ones that were stored."""
        removed = self.store.remove(canonical_origins(entries))
        self.refresh()
        return removed

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Keep the stored origins (loaded when the registry was opened) fresh until shutdown."""
        tasks = [asyncio.create_task(self._refresh_periodically())]
        if self.store.notifies:
            tasks.append(asyncio.create_task(listen(self.store.engine.url, self._refresh_on_notice, self.store.writer)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    async def _refresh_on_notice(self) -> None:
        try:
            await run_in_threadpool(self.refresh)
        except Exception:
            logger.exception("could not refresh the origin registry on a notice; the next refresh will")

    async def _refresh_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await run_in_threadpool(self.refresh)
            except Exception:
                logger.exception("could not refresh the origin registry; keeping the last snapshot")

    def _refusal(self, origin: str) -> str | None:
        try:
            if normalise_origin(origin, ORIGIN_SETTING).text != origin:
                return "not in canonical form"
            check_rules(origin, self.policy)
        except PolicyError as error:
            return str(error)
        return None
