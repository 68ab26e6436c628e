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

A database that cannot be used stops start-up with one line. Once serving,
the service keeps the last snapshot while the database is away; the admin API
and the command line then report :class:`RegistryUnavailableError`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, TypeVar

from fastapi import FastAPI
from sqlalchemy import DateTime, String, create_engine, delete, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from . import schema
from .cors_policy import CorsPolicy, check_origin_rules
from .origin_grammar import normalise_origin
from .origin_matcher import OriginMatcher
from .origin_notifications import announce, listen
from .setting_values import PolicyError
from .settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)

ORIGIN_SETTING = "origin"
"""The name refusals give to an origin written to the registry."""

URL_EXAMPLES = "Write sqlite:///origins.db or postgresql://user:password@host/database"
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)

Parameters = ParamSpec("Parameters")
Result = TypeVar("Result")


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


def masked_url(text: str) -> str:
    """``DATABASE_URL`` as it may be shown: any password replaced by ``***``, even in a malformed URL.

    Everything between ``user:`` and the last ``@`` counts as the password (an
    unencoded ``@`` or ``/`` in a password is a common mistake), and so does a
    ``password=`` query parameter.
    """
    scheme, separator, rest = text.partition("://") if "://" in text else ("", "", text)
    userinfo, at, host = rest.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}{':***' if colon else ''}@{host}"
    return _QUERY_PASSWORD.sub(r"\1***", f"{scheme}{separator}{rest}")


def database_url(text: str) -> URL:
    """Read ``DATABASE_URL``; a plain ``postgresql://`` URL uses psycopg 3."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise ConfigurationError(f"DATABASE_URL: {masked_url(text)!r} is not a database URL. {URL_EXAMPLES}") from None
    if "@" in (url.host or "") or "@" in (url.username or ""):
        raise ConfigurationError(
            f"DATABASE_URL: {masked_url(text)!r} has an '@' in its user name or password. Write it as %40"
        )
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


class RegistryUnavailableError(Exception):
    """The database could not be read or written; the message is one line and holds no password."""

    def __init__(self, database: str, reason: str) -> None:
        self.database = database
        self.reason = reason
        super().__init__(f"DATABASE_URL: {database!r} cannot be used: {reason}")


StoreMethod = Callable[Concatenate["OriginStore", Parameters], Result]


def _reports_unavailable(method: StoreMethod[Parameters, Result]) -> StoreMethod[Parameters, Result]:
    """Report a failing database as :class:`RegistryUnavailableError` instead of SQLAlchemy's traceback."""

    @functools.wraps(method)
    def call(store: OriginStore, /, *args: Parameters.args, **kwargs: Parameters.kwargs) -> Result:
        try:
            return method(store, *args, **kwargs)
        except SQLAlchemyError as error:
            raise store.unavailable(error) from error

    return call


class OriginStore:
    """The stored origins; each method is one short transaction."""

    def __init__(self, url: str | URL) -> None:
        self.url = database_url(url) if isinstance(url, str) else url
        self.shown_url = masked_url(self.url.render_as_string(hide_password=True))
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        except ModuleNotFoundError as missing:
            raise ConfigurationError(
                f"DATABASE_URL: {self.shown_url!r} needs the {missing.name} package, which is not installed."
                " For PostgreSQL, install the project with its extra: pip install -e '.[postgresql]'"
            ) from None
        except (ArgumentError, ValueError, TypeError) as error:
            raise ConfigurationError(
                f"DATABASE_URL: {self.shown_url!r} cannot be used: {self.one_line(error)}. {URL_EXAMPLES}"
            ) from None
        self.notifies = self.engine.dialect.name == "postgresql"
        """Whether writes notify the listening replicas (PostgreSQL only)."""
        self.writer = secrets.token_hex(8)
        """Names this store's writes in their notices, so its own registry skips them."""

    def one_line(self, error: BaseException) -> str:
        """The first line of an error's message, with the password masked should it appear."""
        cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        line = next((text.strip() for text in str(cause).splitlines() if text.strip()), type(cause).__name__)
        password = self.url.password
        return line.replace(str(password), "***") if password else line

    def unavailable(self, error: SQLAlchemyError) -> RegistryUnavailableError:
        return RegistryUnavailableError(self.shown_url, self.one_line(error))

    @_reports_unavailable
    def create_schema(self) -> None:
        """Find the schema at the expected revision, or create it in an empty database."""
        schema.prepare(self.engine)

    @_reports_unavailable
    def migrate(self) -> tuple[str | None, str]:
        """Upgrade the schema to the expected revision; return the revisions before and after."""
        return schema.migrate(self.engine)

    def _announce(self, session: Session) -> None:
        if self.notifies:
            announce(session.connection(), self.writer)

    @_reports_unavailable
    def origins(self) -> list[str]:
        with Session(self.engine) as session:
            return list(session.scalars(select(StoredOrigin.origin).order_by(StoredOrigin.origin)))

    @_reports_unavailable
    def stored_origins(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.scalars(select(StoredOrigin.origin)))

    @_reports_unavailable
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

    @_reports_unavailable
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
        """Open the configured database and load its origins; :class:`ConfigurationError` if it cannot be used."""
        registry = cls(OriginStore(settings.database_url), policy, settings.cors_registry_refresh_seconds)
        try:
            registry.store.create_schema()
            registry.refresh()
        except RegistryUnavailableError as error:
            raise ConfigurationError(
                f"{error}. Check that the database exists and that this service may read and write it"
            ) from None
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
        self._refresh_after_write()
        return added

    def remove(self, entries: Iterable[str]) -> list[str]:
        """Delete origins, then refresh; return the ones that were stored."""
        removed = self.store.remove(canonical_origins(entries))
        self._refresh_after_write()
        return removed

    def _refresh_after_write(self) -> None:
        """The write is stored: should reading it back fail, the periodic refresh brings it in later."""
        try:
            self.refresh()
        except RegistryUnavailableError as error:
            logger.warning("stored the change but could not read the registry back; the next refresh will: %s", error)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Keep the stored origins (loaded when the registry was opened) fresh until shutdown."""
        tasks = [asyncio.create_task(self._refresh_periodically())]
        store = self.store
        if store.notifies:
            tasks.append(asyncio.create_task(listen(store.url, self._refresh_on_notice, store.writer, store.one_line)))
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
        except RegistryUnavailableError as error:
            logger.warning("could not refresh the origin registry on a notice; the next refresh will: %s", error)
        except Exception:
            logger.exception("could not refresh the origin registry on a notice; the next refresh will")

    async def _refresh_periodically(self) -> None:
        """Refresh forever; a failing database is logged once when it fails and once when it is back."""
        failing = False
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await run_in_threadpool(self.refresh)
            except RegistryUnavailableError as error:
                if not failing:
                    logger.warning("could not refresh the origin registry; keeping the last snapshot: %s", error)
                failing = True
            except Exception:
                logger.exception("could not refresh the origin registry; keeping the last snapshot")
            else:
                if failing:
                    logger.warning("the origin registry's database answers again; refreshing as usual")
                failing = False

    def _refusal(self, origin: str) -> str | None:
        try:
            if normalise_origin(origin, ORIGIN_SETTING).text != origin:
                return "not in canonical form"
            check_rules(origin, self.policy)
        except PolicyError as error:
            return str(error)
        return None
