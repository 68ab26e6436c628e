"""The origin registry's database: its table, ``DATABASE_URL``, one short transaction per read or write.

The schema is Alembic's (``schema``). On PostgreSQL a write also sends a
notice in its own transaction (``origin_notifications``). A failing database
is reported as :class:`RegistryUnavailableError`, one line without the
password, never as SQLAlchemy's traceback.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import DateTime, String, create_engine, delete, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from . import schema
from .origin_notifications import announce
from .settings import ConfigurationError

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


class RegistryUnavailableError(ConfigurationError):
    """The database could not be read or written; the message is one line and holds no password.

    A :class:`ConfigurationError`, since a service whose database cannot be
    used when it opens the registry must not start.
    """

    def __init__(self, database: str, reason: str) -> None:
        self.database = database
        self.reason = reason
        super().__init__(
            f"DATABASE_URL: {database!r} cannot be used: {reason}."
            " Check that the database exists and that this service may read and write it"
        )


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
    def stored_origins(self) -> list[str]:
        """Every stored row's origin, sorted, as the database holds it now."""
        with self.engine.connect() as connection:
            return list(connection.scalars(select(StoredOrigin.origin).order_by(StoredOrigin.origin)))

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
