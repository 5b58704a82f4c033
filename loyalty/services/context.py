"""The long-lived resources of one process (engine, Redis, queue), built once from the Config."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from sqlalchemy.engine import Engine

from db.engine import make_engine
from loyalty.config import Config, load_config

QUEUE_NAME = "loyalty"
"""The queue of every job but webhook processing: the balance write-back, emails, imports, scheduled jobs
(the Procfile's `background` process)."""
INBOX_QUEUE_NAME = "loyalty-inbox"
"""The queue of webhook processing jobs alone (the Procfile's `worker` process): webhooks never wait for
a write-back slice or an import to finish, and a stream of webhooks never holds the write-back back."""


@dataclass(frozen=True)
class Context:
    """Everything a web request, a job or a CLI command needs to reach the outside world."""

    config: Config
    engine: Engine
    redis: Redis

    @property
    def queue(self) -> Queue:
        """The RQ queue of every job but webhook processing."""
        return Queue(QUEUE_NAME, connection=self.redis)

    @property
    def inbox_queue(self) -> Queue:
        """The RQ queue of webhook processing jobs."""
        return Queue(INBOX_QUEUE_NAME, connection=self.redis)


def make_redis(url: str, timeout: float) -> Redis:
    """A Redis client that fails fast: short timeouts and no silent retries on the request path."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 0), health_check_interval=0)


def build_context(config: Config, role: str = "web") -> Context:
    """Connect to the configured database and Redis (lazily: nothing is opened until used). `web` fails
    fast on a locked database (503, Shopify retries); `worker` (jobs, scheduler, CLI) waits for the lock."""
    timeout = config.db_timeout_seconds if role == "web" else config.worker_db_timeout_seconds
    return Context(config=config, engine=make_engine(config.database_url, timeout),
                   redis=make_redis(config.effective_redis_url, config.redis_timeout_seconds))


@lru_cache(maxsize=2)
def get_context(role: str = "worker") -> Context:
    """The process-wide context, from the environment: `worker` for jobs and the CLI, `web` for the app."""
    return build_context(load_config(), role)
