"""Load generators that leave the CPU to the server they measure.

- `closed_loop`: the most requests the server answers, from `wrk` (C, one thread) when it is installed
  (`apt-get install wrk`), else from `open_loop`'s engine with a fixed number of connections;
- `open_loop`: requests sent on a fixed timetable whatever the server does (asyncio, raw HTTP/1.1 over
  keep-alive connections, requests built ahead), with each latency measured from the moment the request was
  due, so a stalled server cannot hide its queue (no coordinated omission). It runs in its own process.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import uuid
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from integrations.shopify.webhook_signature import sign


@dataclass(frozen=True)
class Traffic:
    """What to send: a path and, for webhooks, signed bodies (cycled) and a fresh webhook id per request."""

    path: str
    bodies: tuple[bytes, ...] = ()
    shop: str = ""
    secret: str = ""
    topic: str = "orders/paid"
    topics: tuple[str, ...] = ()
    """Each body's topic, when they differ (open loop only; `wrk` sends `topic` with every body)."""

    def request(self, n: int, run: str) -> bytes:
        """The raw HTTP/1.1 request number `n`."""
        if not self.bodies:
            return f"GET {self.path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
        body = self.bodies[n % len(self.bodies)]
        topic = self.topics[n % len(self.topics)] if self.topics else self.topic
        head = (f"POST {self.path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nX-Shopify-Topic: {topic}\r\n"
                f"X-Shopify-Shop-Domain: {self.shop}\r\nX-Shopify-Webhook-Id: {run}-{n}\r\n"
                f"X-Shopify-Hmac-Sha256: {sign(self.secret, body)}\r\n\r\n")
        return head.encode() + body


@dataclass(frozen=True)
class Result:
    """What a load run measured."""

    sent: int
    ok: int
    seconds: float
    latencies_ms: tuple[float, ...] = ()
    tool: str = ""
    statuses: tuple[tuple[int, int], ...] = ()
    """(HTTP status, count) of the answers (open loop); status 0: the connection closed without an answer."""
    cpu_seconds: float = 0.0
    """CPU used meanwhile by the processes under test, when measured (`alternating`)."""

    @property
    def cpu_us_per_ok(self) -> float:
        """CPU of the processes under test per successful answer, in microseconds."""
        return self.cpu_seconds / self.ok * 1e6 if self.ok else float("nan")

    def refused(self) -> str:
        """The answers that were not 2xx, e.g. '503 x12, no answer x3' (empty when there were none)."""
        names = {0: "connection closed", -1: "no answer within 60 s"}
        return ", ".join(f"{names.get(status, status)} x{count}" for status, count in self.statuses
                         if not 200 <= status < 300)

    @property
    def ok_per_second(self) -> float:
        """Successful (2xx) answers per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency at percentile `p` (0-100), in ms."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


# -- closed loop -------------------------------------------------------------------------------------

def closed_loop(port: int, traffic: Traffic, seconds: float, connections: int = 16) -> Result:
    """As many requests as the server answers over `connections` connections for `seconds`."""
    if shutil.which("wrk"):
        return _wrk(port, traffic, seconds, connections)
    return _in_process(_closed(port, traffic, seconds, connections))


def alternating(port: int, traffics: list[Traffic], seconds: float, rounds: int = 5, connections: int = 16,
                cpu=None) -> list["Result"]:
    """`closed_loop` for each traffic in turn, `rounds` times, `seconds` in all for each: ratios between them
    then hold when the machine's load drifts during the run (each round meets the same load). `cpu()`,
    when given, returns the CPU seconds used so far by the processes under test; each result then carries
    the CPU its own phases used."""
    results: list[list[Result]] = [[] for _ in traffics]
    for _ in range(rounds):
        for traffic, found in zip(traffics, results):
            before = cpu() if cpu else 0.0
            result = closed_loop(port, traffic, seconds / rounds, connections)
            found.append(replace(result, cpu_seconds=(cpu() - before) if cpu else 0.0))
    return [_sum(found, rounds) for found in results]


def _sum(results: list["Result"], rounds: int) -> "Result":
    return Result(sent=sum(r.sent for r in results), ok=sum(r.ok for r in results),
                  seconds=sum(r.seconds for r in results), cpu_seconds=sum(r.cpu_seconds for r in results),
                  tool=f"{results[0].tool}, {rounds} rounds alternating")


_WRK_SCRIPT = """
local bodies = {%(bodies)s}
local path, shop, topic, run = %(path)q, %(shop)q, %(topic)q, %(run)q
local n = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
  n = n + 1
  if #bodies == 0 then return wrk.format("GET", path) end
  local item = bodies[(n %% #bodies) + 1]
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Shopify-Topic"] = topic,
    ["X-Shopify-Shop-Domain"] = shop, ["X-Shopify-Webhook-Id"] = run .. "-" .. tid .. "-" .. n,
    ["X-Shopify-Hmac-Sha256"] = item[2]}, item[1])
end
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format('WRK {"requests": %%d, "bad": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, bad, summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrk(port: int, traffic: Traffic, seconds: float, connections: int) -> Result:
    if len(set(traffic.topics)) > 1:
        raise ValueError("wrk sends one topic: give mixed topics to the open loop")
    bodies = ", ".join(f"{{{_lua_string(b.decode())}, {_lua_string(sign(traffic.secret, b))}}}"
                       for b in traffic.bodies)
    script = _WRK_SCRIPT.replace("%(bodies)s", bodies).replace("%%", "%")
    for name, value in (("path", traffic.path), ("shop", traffic.shop), ("topic", traffic.topic),
                        ("run", uuid.uuid4().hex[:12])):
        script = script.replace(f"%({name})q", _lua_string(value))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", handle.name,
                              f"http://127.0.0.1:{port}{traffic.path}"], capture_output=True, text=True,
                             timeout=seconds + 60)
    finally:
        Path(handle.name).unlink()
    found = re.search(r"^WRK (\{.*\})$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk gave no figures: {out.stdout[-500:]} {out.stderr[-500:]}")
    figures = json.loads(found.group(1))
    return Result(sent=figures["requests"], ok=figures["requests"] - figures["bad"],
                  seconds=figures["duration_us"] / 1e6, tool="wrk (closed loop, 1 thread, "
                  f"{connections} connections)")


# -- open loop (and the closed-loop fallback) --------------------------------------------------------

def open_loop(port: int, traffic: Traffic, rate: float, seconds: float, max_connections: int = 256) -> Result:
    """Send `rate` requests per second for `seconds` on a fixed timetable; latency from each due time."""
    return _in_process(_open(port, traffic, rate, seconds, max_connections))


def _in_process(coroutine_args) -> Result:
    """Run a generator coroutine in a child process, so its CPU is its own and the caller stays free."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(coroutine_args, child))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    return result


def _child(coroutine_args, pipe) -> None:
    kind, args = coroutine_args
    pipe.send(asyncio.run((_run_open if kind == "open" else _run_closed)(*args)))


def _open(port, traffic, rate, seconds, max_connections):
    return "open", (port, traffic, rate, seconds, max_connections)


def _closed(port, traffic, seconds, connections):
    return "closed", (port, traffic, seconds, connections)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection carrying one request at a time. `on_closed(conn, data, due,
    callback)` is called when the server closes it before any byte of the answer (an idle keep-alive
    connection closed as a request went out): the request is sent again on a new connection, as an HTTP
    client does."""

    def __init__(self, on_closed=None):
        self.on_closed, self.transport, self.buffer, self.due, self.callback = on_closed, None, b"", 0.0, None
        self.data, self.closed = b"", False
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        self.ready.set_result(self)

    def send(self, data: bytes, due: float, callback) -> None:
        self.buffer, self.due, self.callback, self.data = b"", due, callback, data
        if self.closed:
            self.connection_lost(None)
            return
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = re.search(rb"(?i)content-length:\s*(\d+)", self.buffer[:end])
        if len(self.buffer) < end + 4 + (int(length.group(1)) if length else 0):
            return
        status = int(self.buffer[9:12])
        callback, self.callback = self.callback, None
        callback(self, status)

    def connection_lost(self, exc):
        self.closed = True
        callback, self.callback = self.callback, None
        if callback and not self.buffer and self.on_closed:
            self.on_closed(self, self.data, self.due, callback)
        elif callback:
            callback(self, 0)


async def _run_open(port, traffic, rate, seconds, max_connections) -> Result:
    loop = asyncio.get_running_loop()
    run = uuid.uuid4().hex[:12]
    total = int(rate * seconds)
    requests = [traffic.request(n, run) for n in range(total)]  # built ahead: nothing costly on the clock
    idle: deque = deque()
    waiting: deque = deque()
    latencies, ok, opened, statuses = [], 0, 0, {}
    finished = loop.create_future()
    answered = 0

    def on_done(conn, status):
        nonlocal ok, answered
        latencies.append((loop.time() - conn.due) * 1000)
        ok += 200 <= status < 300
        statuses[status] = statuses.get(status, 0) + 1
        answered += 1
        if conn.closed:
            pass
        elif waiting:
            n, due = waiting.popleft()
            conn.send(requests[n], due, on_done)
        else:
            idle.append(conn)
        if answered == total and not finished.done():
            finished.set_result(None)

    async def resend(data, due, callback):
        try:
            (await connect()).send(data, due, callback)
        except OSError:
            dead = _Connection()
            dead.due, dead.closed = due, True
            callback(dead, 0)

    def on_closed(conn, data, due, callback):
        loop.create_task(resend(data, due, callback))

    async def connect():
        _, protocol = await loop.create_connection(lambda: _Connection(on_closed), "127.0.0.1", port)
        return protocol

    for _ in range(min(32, max_connections)):
        idle.append(await connect())
        opened += 1
    start = loop.time() + 0.05
    for n in range(total):
        due = start + n / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if idle:
            idle.pop().send(requests[n], due, on_done)
        elif opened < max_connections:
            opened += 1
            (await connect()).send(requests[n], due, on_done)
        else:
            waiting.append((n, due))
    try:
        await asyncio.wait_for(finished, timeout=60)
    except asyncio.TimeoutError:
        pass
    elapsed = loop.time() - start
    unanswered = total - answered
    if unanswered:
        statuses[-1] = unanswered
    return Result(sent=total, ok=ok, seconds=elapsed, latencies_ms=tuple(latencies),
                  tool=f"open loop, asyncio, {opened} connections", statuses=tuple(sorted(statuses.items())))


async def _run_closed(port, traffic, seconds, connections) -> Result:
    loop = asyncio.get_running_loop()
    run = uuid.uuid4().hex[:12]
    counter = iter(range(10**9))
    ok = sent = 0
    deadline = loop.time() + seconds

    def on_done(conn, status):
        nonlocal ok, sent
        ok += 200 <= status < 300
        if loop.time() < deadline:
            n = next(counter)
            sent += 1
            conn.send(traffic.request(n, run), loop.time(), on_done)

    conns = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(lambda: _Connection(None), "127.0.0.1", port)
        conns.append(protocol)
    start = loop.time()
    for conn in conns:
        sent += 1
        conn.send(traffic.request(next(counter), run), loop.time(), on_done)
    await asyncio.sleep(seconds + 1)
    return Result(sent=sent, ok=ok, seconds=loop.time() - start - 1,
                  tool=f"asyncio closed loop, {connections} connections (wrk not installed)")


def order_bodies(count: int = 200, first_id: int = 10_000_000, accounts: bool = True) -> tuple[bytes, ...]:
    """Distinct orders/paid bodies like Shopify's (trimmed to what the app reads), from 5,000 customers;
    with `accounts` False they are guest checkouts (an email, no customer account)."""
    return tuple(json.dumps({
        "id": first_id + i, "name": f"#B{i}", "email": f"c{i % 5000}@example.com", "currency": "EUR",
        "processed_at": "2025-01-01T00:00:00Z", "payment_gateway_names": ["shopify_payments"],
        **({"customer": {"id": 700_000 + i % 5000, "tags": ""}} if accounts else {}),
        "line_items": [{"price": "19.90", "quantity": 2, "discount_allocations": []}],
    }).encode() for i in range(count))
