"""A cache that an outage of its Redis slows down by one timeout, never breaks.

With the cache Redis down, Django's RedisCache raises on every call, so every page or API
call that touches the cache (DRF's throttles, the public portal's pages) answered 500.
``ResilientRedisCache`` answers as an empty cache instead: a read misses, a write is
dropped. Pages render uncached; DRF's rate limits read no history, so reads are let
through (open); login attempts are limited by django-axes in the database, so logins stay
limited (closed). After a failure the cache is not asked again for ``RETRY_SECONDS``, so an
outage costs one socket timeout per process and period, not one per call. ``state()`` tells
/healthz, without a round trip.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

RETRY_SECONDS = 10.0


class _Circuit:
    """Shared by the backend instances of a process (Django makes one per thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.error = ""

    def closed(self) -> bool:
        return self.down_since is None or time.monotonic() >= self.retry_at

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            if self.down_since is None:
                self.down_since = time.time()
                logger.error("cache unreachable, serving uncached: %s", exc)
            self.retry_at = time.monotonic() + RETRY_SECONDS
            self.error = f"{type(exc).__name__}: {exc}"

    def worked(self) -> None:
        if self.down_since is not None:
            with self.lock:
                if self.down_since is not None:
                    logger.warning(
                        "cache reachable again after %.0f s", time.time() - self.down_since
                    )
                self.down_since = None
                self.error = ""


CIRCUIT = _Circuit()


def state() -> dict:
    """The cache as this process last found it (no round trip): for /healthz."""
    if CIRCUIT.down_since is None:
        return {"ok": True, "detail": "reachable when last used"}
    return {
        "ok": False,
        "detail": f"unreachable since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(CIRCUIT.down_since))}"
        f", pages served uncached ({CIRCUIT.error})",
    }


def _guarded(name: str, fallback):
    real = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        if not CIRCUIT.closed():
            return fallback(*args, **kwargs)
        try:
            result = real(self, *args, **kwargs)
        except ValueError:  # incr/decr of a missing key: an answer, not an outage
            CIRCUIT.worked()
            raise
        except Exception as exc:  # noqa: BLE001 – any failure of the cache server
            CIRCUIT.failed(exc)
            return fallback(*args, **kwargs)
        CIRCUIT.worked()
        return result

    call.__name__ = name
    call.__doc__ = real.__doc__
    return call


def _default(key, default=None, version=None):
    return default


def _get_or_set(key, default, timeout=None, version=None):
    return default() if callable(default) else default


def _missing(*args, **kwargs):
    raise ValueError("cache unreachable: no value to change")


class _ReusedClientCache(RedisCacheClient):
    """Django's client, keeping one ``redis.Redis`` per connection pool.

    Django builds a new ``redis.Redis`` object for every cache call; its constructor costs
    about as much CPU as a cached public page's own work. The object is only a handle on
    the (thread-safe) pool, so one per pool serves every call.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientCache

    get = _guarded("get", _default)
    get_many = _guarded("get_many", lambda *a, **k: {})
    has_key = _guarded("has_key", lambda *a, **k: False)
    add = _guarded("add", lambda *a, **k: False)
    set = _guarded("set", lambda *a, **k: None)
    set_many = _guarded("set_many", lambda data, *a, **k: list(data))
    touch = _guarded("touch", lambda *a, **k: False)
    delete = _guarded("delete", lambda *a, **k: False)
    delete_many = _guarded("delete_many", lambda *a, **k: None)
    clear = _guarded("clear", lambda *a, **k: False)
    incr = _guarded("incr", _missing)
    decr = _guarded("decr", _missing)
    get_or_set = _guarded("get_or_set", _get_or_set)

    def ping(self) -> None:
        """One real round trip, raising when the server does not answer (readiness)."""
        client = self._cache.get_client(None, write=True)
        client.ping()
