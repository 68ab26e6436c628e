"""Registry writes announced with PostgreSQL's ``NOTIFY``, so every replica refreshes within a second.

A write sends a notice on :data:`CHANNEL` inside its own transaction, so the
notice goes out when, and only if, the write commits. Each replica keeps one
connection of its own that ``LISTEN``s and refreshes on every notice from
another writer. Polling stays the fallback: a notice lost while the
connection was down costs at most one refresh interval, and :func:`listen`
reconnects by itself. It refreshes each time it starts listening, for the
writes made before it listened. SQLite has no notices; there polling is all there is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

CHANNEL = "cors_origins"
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to reconnect; the last one repeats."""
KEEPALIVE = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}
"""TCP keepalives, so a silently lost connection is noticed within a minute (unless DATABASE_URL sets them)."""


def announce(connection: Connection, writer: str) -> None:
    """Send the notice in ``connection``'s transaction; ``writer`` tells the listeners who wrote."""
    connection.execute(select(func.pg_notify(CHANNEL, writer)))


def conninfo(url: URL) -> str:
    """The libpq connection string of a SQLAlchemy ``postgresql+psycopg`` URL, with :data:`KEEPALIVE` added."""
    keepalive = {name: value for name, value in KEEPALIVE.items() if name not in url.query}
    return url.set(drivername="postgresql").update_query_dict(keepalive).render_as_string(hide_password=False)


async def listen(
    url: URL, refresh: Callable[[], Awaitable[None]], own_writer: str, describe: Callable[[BaseException], str]
) -> None:
    """Refresh on every notice that ``own_writer`` did not send, until cancelled; reconnect when the connection drops.

    ``refresh`` must not raise; ``describe`` gives an error's one-line message without the password.
    Needs psycopg, the PostgreSQL driver (the ``postgresql`` extra).
    """
    import psycopg

    attempt = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                if attempt:
                    logger.warning("listening for registry writes again")
                attempt = 0
                await refresh()  # what was written before this connection listened
                async for notice in connection.notifies():
                    if notice.payload != own_writer:
                        await refresh()
        except psycopg.Error as error:
            if attempt == 0:
                logger.warning("not listening for registry writes, polling meanwhile: %s", describe(error))
        await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
        attempt += 1
