"""Bulk operations: start a bulk query, wait for it, stream its JSONL in constant memory, regroup children.

Shopify writes one JSON object per line; the objects of a nested connection come as their own lines with a
`__parentId` naming their parent, right after it when the operation groups objects (we ask it to). Nothing
here knows about orders or points.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import orjson
import requests

from integrations.shopify.documents import BULK_OPERATION_RUN_QUERY, BULK_OPERATION_STATUS
from integrations.shopify.errors import BadJsonl, BulkOperationFailed
from loyalty.defaults import BULK_POLL_SECONDS as POLL_SECONDS, BULK_WAIT_SECONDS as WAIT_SECONDS

FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


@dataclass(frozen=True)
class BulkOperation:
    """Where a bulk operation stands."""

    id: str
    status: str
    url: str | None = None
    error_code: str | None = None
    object_count: int = 0
    partial_url: str | None = None
    """A FAILED operation's partial results (a bulk mutation's lines done before it failed)."""
    created_at: str | None = None
    query: str | None = None
    """The query (or, for a bulk mutation, the mutation) it runs."""


@dataclass
class Record:
    """One top-level object with its child lines; `end_line`/`end_byte` say where it ends in the file."""

    node: dict
    children: list = field(default_factory=list)
    end_line: int = 0
    end_byte: int = 0


def start_bulk_query(client, query: str) -> str:
    """Start a bulk query; its id, or BulkOperationFailed with Shopify's userErrors."""
    data = client.execute(BULK_OPERATION_RUN_QUERY, {"query": query})
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if errors or not payload.get("bulkOperation"):
        raise BulkOperationFailed(f"bulkOperationRunQuery refused: {errors}", shop=client.shop,
                                  operation="BulkOperationRunQuery")
    return payload["bulkOperation"]["id"]


def bulk_status(client, operation_id: str) -> BulkOperation:
    """The operation's status (and its JSONL url once COMPLETED)."""
    node = client.execute(BULK_OPERATION_STATUS, {"id": operation_id}).get("node") or {}
    if not node:
        raise BulkOperationFailed(f"bulk operation {operation_id} not found", shop=client.shop,
                                  operation="BulkOperationStatus")
    return operation_of(node)


def operation_of(node: dict) -> BulkOperation:
    """A BulkOperation from the fields of Shopify's object (those the document selected)."""
    return BulkOperation(id=node["id"], status=node["status"], url=node.get("url"),
                         error_code=node.get("errorCode"), object_count=int(node.get("objectCount") or 0),
                         partial_url=node.get("partialDataUrl"), created_at=node.get("createdAt"),
                         query=node.get("query"))


def wait_for(client, operation_id: str, sleep=time.sleep, poll: float = POLL_SECONDS,
             timeout: float = WAIT_SECONDS, clock=time.monotonic) -> BulkOperation:
    """Poll until the operation finishes; the COMPLETED operation, or BulkOperationFailed."""
    deadline = clock() + timeout
    while True:
        operation = bulk_status(client, operation_id)
        if operation.status in FINISHED:
            if operation.status != "COMPLETED":
                raise BulkOperationFailed(f"bulk operation {operation_id} ended {operation.status} "
                                          f"({operation.error_code})", shop=client.shop,
                                          operation="BulkOperationStatus")
            return operation
        if clock() > deadline:
            raise BulkOperationFailed(f"bulk operation {operation_id} still {operation.status}",
                                      shop=client.shop, operation="BulkOperationStatus")
        sleep(poll)


def url_lines(url: str | None, skip_bytes: int = 0, session=None, timeout=(5, 60)) -> Iterator[bytes]:
    """The lines of the JSONL at `url` from byte `skip_bytes` on, streamed (a range request when the server
    takes one). A COMPLETED operation with no objects has no url: no lines."""
    if not url:
        return
    session = session or requests.Session()
    headers = {"Range": f"bytes={skip_bytes}-"} if skip_bytes else {}
    with session.get(url, stream=True, timeout=timeout, headers=headers) as response:
        response.raise_for_status()
        to_skip = skip_bytes if response.status_code != 206 else 0
        pending = b""
        for chunk in response.iter_content(chunk_size=256 * 1024):
            if to_skip:
                dropped = min(to_skip, len(chunk))
                chunk, to_skip = chunk[dropped:], to_skip - dropped
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line + b"\n"
        if pending:
            yield pending


def file_lines(path, skip_bytes: int = 0) -> Iterator[bytes]:
    """The lines of a local JSONL file from byte `skip_bytes` on."""
    with open(path, "rb") as handle:
        handle.seek(skip_bytes)
        yield from handle


def records(lines, start_line: int = 0, start_byte: int = 0) -> Iterator[Record]:
    """Top-level objects with their children, one at a time (only the current one is held in memory).

    A child names its parent with `__parentId`: the current top-level object or one of its children
    (two levels of connections). A child of any other object means the file was not grouped.
    """
    current, known_ids = None, set()
    line_no, offset = start_line, start_byte
    for raw in lines:
        line_no, offset = line_no + 1, offset + len(raw)
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadJsonl(f"line {line_no}: not JSON") from None
        if not isinstance(obj, dict):
            raise BadJsonl(f"line {line_no}: not a JSON object")
        parent = obj.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            current, known_ids = Record(obj), {obj.get("id")}
        elif current is None or parent not in known_ids:
            raise BadJsonl(f"line {line_no}: child of {parent}, which is not the object being read "
                           "(the operation must group objects)")
        else:
            obj["__parentId"] = parent
            current.children.append(obj)
            if obj.get("id"):
                known_ids.add(obj["id"])
        current.end_line, current.end_byte = line_no, offset
    if current is not None:
        yield current
