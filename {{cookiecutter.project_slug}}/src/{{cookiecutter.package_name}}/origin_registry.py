"""The origin registry: the stored origins checked, and served from memory to the CORS middleware.

The request path never waits on the database. The CORS middleware reads an
in-memory :class:`OriginMatcher` built from the static policy plus the stored
origins (``origin_store``); a background task rebuilds it every
``CORS_REGISTRY_REFRESH_SECONDS`` and a write made through this process
rebuilds it at once. On PostgreSQL a write also notifies every replica, which
rebuilds it within a second (``origin_notifications``); polling remains the
fallback, so replicas that share one database agree within one refresh
interval at worst.

The admin API and the command line both write through :class:`OriginRegistry`.
One checker, :func:`check_origin`, applies the grammar and the safety rules of
``cors_policy``: to a write, before anything is stored, and to every stored
row the snapshot meets, so that a row this environment refuses (``http://``
in production, say) is ignored and logged.

A database that cannot be used stops start-up with one line. Once serving,
the service keeps the last snapshot while the database is away; the admin API
and the command line then report
:class:`~.origin_store.RegistryUnavailableError`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .cors_policy import CorsPolicy, check_origin_rules
from .origin_grammar import normalise_origin
from .origin_matcher import OriginMatcher
from .origin_notifications import listen
from .origin_store import OriginStore, RegistryUnavailableError
from .setting_values import PolicyError

logger = logging.getLogger(__name__)

ORIGIN_SETTING = "origin"
"""The name refusals give to an origin written to the registry."""


class RefusedOriginsError(ValueError):
    """Entries that break the grammar or a rule; ``reasons`` maps each position to its message."""

    def __init__(self, reasons: dict[int, str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons.values()))


def check_origin(entry: str, policy: CorsPolicy | None) -> str:
    """The canonical form of ``entry`` if it may be stored under ``policy``, or :class:`PolicyError` saying why not.

    Without a policy only the grammar applies, as for naming an origin to remove.
    """
    origin = normalise_origin(entry.strip(), ORIGIN_SETTING).text
    if policy is not None:
        check_origin_rules(
            [origin],
            environment=policy.environment,
            allow_credentials=policy.allow_credentials,
            setting=ORIGIN_SETTING,
            credentials_setting="CORS_ALLOW_CREDENTIALS",
        )
    return origin


def check_origins(entries: Iterable[str], policy: CorsPolicy | None) -> list[str]:
    """:func:`check_origin` for every entry, or :class:`RefusedOriginsError` with every refusal."""
    origins: list[str] = []
    reasons: dict[int, str] = {}
    for position, entry in enumerate(entries):
        try:
            origins.append(check_origin(entry, policy))
        except PolicyError as error:
            reasons[position] = str(error)
    if reasons:
        raise RefusedOriginsError(reasons)
    return origins


@dataclass(frozen=True)
class Change:
    """What one write asked for and what it did."""

    requested: list[str]
    """The origins named, in canonical form and in the order given, each once."""
    changed: list[str]
    """Those the write added or removed; the others were already in that state."""


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
    def open(cls, store: OriginStore, policy: CorsPolicy, refresh_seconds: float) -> OriginRegistry:
        """Check the schema (creating it in an empty database) and load the stored origins.

        Raises :class:`RegistryUnavailableError` or :class:`~.schema.SchemaError`,
        both :class:`ConfigurationError`: a service that cannot open its registry does not start.
        """
        registry = cls(store, policy, refresh_seconds)
        store.create_schema()
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
            stored = set(self.store.stored_origins())
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

    def _refusal(self, origin: str) -> str | None:
        """Why this environment ignores a stored origin, or None when it is allowed."""
        try:
            canonical = check_origin(origin, self.policy)
        except PolicyError as error:
            return str(error)
        return None if canonical == origin else "not in canonical form"

    def stored_origins(self) -> list[str]:
        """Every stored origin, read from the database now, including any that this environment ignores."""
        return self.store.stored_origins()

    def add(self, entries: Iterable[str]) -> Change:
        """Check and store origins (all or none), announce the write, and refresh."""
        origins = list(dict.fromkeys(check_origins(entries, self.policy)))
        added = self.store.add(origins)
        self._refresh_after_write()
        return Change(origins, added)

    def remove(self, entries: Iterable[str]) -> Change:
        """Delete origins (only the grammar applies, so any stored origin can go), announce the write, and refresh."""
        origins = list(dict.fromkeys(check_origins(entries, None)))
        removed = self.store.remove(origins)
        self._refresh_after_write()
        return Change(origins, removed)

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
