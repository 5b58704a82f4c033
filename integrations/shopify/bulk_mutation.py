"""Bulk mutations: stage a JSONL of variables, run one mutation per line on Shopify's side, read the results.

    path = stage_upload(client, jsonl)                  # stagedUploadsCreate, then the multipart POST
    operation = start(client, METAFIELDS_SET, path)     # bulkOperationRunMutation (one at a time per shop)
    ... bulk.bulk_status(client, operation.id) until FINISHED ...
    for number, problem in result_lines(operation.url, client.session): ...

Each input line runs as its own mutation: its result line carries `__lineNumber` (from 0, in any order) and
the mutation's payload (with its `userErrors`) or top-level `errors`. Nothing here knows about points.
"""
from __future__ import annotations

from typing import Iterator

import orjson

from integrations.shopify import bulk
from integrations.shopify.bulk import BulkOperation, BulkOperationFailed
from integrations.shopify.documents import (BULK_OPERATION_RUN_MUTATION, CURRENT_BULK_MUTATION,
                                            STAGED_UPLOADS_CREATE)
from integrations.shopify.errors import StagedUploadFailed
from loyalty.defaults import UPLOAD_TIMEOUT

FILENAME = "loyalty-bulk-variables.jsonl"
MIME_TYPE = "text/jsonl"
UNFINISHED = frozenset({"CREATED", "RUNNING", "CANCELING"})


class BulkMutationBusy(BulkOperationFailed):
    """Shopify runs another bulk mutation of this app in the shop (OPERATION_IN_PROGRESS): wait for it."""


def stage_upload(client, jsonl: bytes, session=None) -> str:
    """Upload `jsonl` where Shopify keeps bulk mutation variables; the `stagedUploadPath` to run it with.
    The file goes as a multipart POST to the target's URL with every returned parameter as a form field
    before the file itself, as Shopify documents it."""
    data = client.execute(STAGED_UPLOADS_CREATE, {"input": [{
        "resource": "BULK_MUTATION_VARIABLES", "filename": FILENAME, "mimeType": MIME_TYPE, "httpMethod": "POST"}]})
    payload = data.get("stagedUploadsCreate") or {}
    targets = payload.get("stagedTargets") or []
    if payload.get("userErrors") or not targets:
        raise StagedUploadFailed(f"refused: {payload.get('userErrors')}", shop=client.shop,
                                 operation="StagedUploadsCreate")
    target = targets[0]
    fields = {p["name"]: p["value"] for p in target["parameters"]}
    if "key" not in fields:
        raise StagedUploadFailed("the staged target has no `key` parameter", shop=client.shop,
                                 operation="StagedUploadsCreate")
    session = session or client.session
    response = session.post(target["url"], data=fields, files={"file": (FILENAME, jsonl, MIME_TYPE)},
                            timeout=UPLOAD_TIMEOUT)
    if response.status_code >= 300:
        raise StagedUploadFailed(f"upload answered HTTP {response.status_code}: {response.text[:200]}",
                                 shop=client.shop, operation="StagedUpload")
    return fields["key"]


def start(client, mutation: str, staged_path: str) -> BulkOperation:
    """Start the bulk mutation; BulkMutationBusy when one already runs, BulkOperationFailed otherwise."""
    data = client.execute(BULK_OPERATION_RUN_MUTATION, {"mutation": mutation, "stagedUploadPath": staged_path})
    payload = data.get("bulkOperationRunMutation") or {}
    errors = payload.get("userErrors") or []
    if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
        raise BulkMutationBusy(f"another bulk mutation runs: {errors}", shop=client.shop,
                               operation="BulkOperationRunMutation")
    if errors or not payload.get("bulkOperation"):
        raise BulkOperationFailed(f"bulkOperationRunMutation refused: {errors}", shop=client.shop,
                                  operation="BulkOperationRunMutation")
    return bulk.operation_of(payload["bulkOperation"])


def current(client) -> BulkOperation | None:
    """The app's latest bulk mutation in the shop (running or not), or None."""
    node = client.execute(CURRENT_BULK_MUTATION).get("currentBulkOperation")
    return bulk.operation_of(node) if node else None


def result_lines(url: str | None, session=None) -> Iterator[tuple[int, str | None]]:
    """(input line number, None when that line's mutation succeeded or the reason it did not), streamed."""
    for raw in bulk.url_lines(url, session=session):
        if not raw.strip():
            continue
        line = orjson.loads(raw)
        yield int(line["__lineNumber"]), line_problem(line)


def line_problem(line: dict) -> str | None:
    """Why one result line's mutation did not apply (GraphQL errors, userErrors), or None."""
    if line.get("errors"):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in line["errors"])
    payloads = list((line.get("data") or {}).values())
    if not payloads or payloads[0] is None:
        return "no result"
    user_errors = payloads[0].get("userErrors") or []
    if user_errors:
        return "; ".join(f"{'.'.join(e.get('field') or ())}: {e.get('message')}".lstrip(": ") for e in user_errors)
    return None
