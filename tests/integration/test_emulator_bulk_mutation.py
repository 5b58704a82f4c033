"""The emulator's bulk mutations: staged upload target, bulkOperationRunMutation with metafieldsSet's own
semantics per line, one running bulk mutation per shop, results with __lineNumber, costs like Shopify's."""
import json

import pytest

from integrations.shopify import bulk, bulk_mutation
from integrations.shopify.bulk import BulkOperationFailed
from integrations.shopify.documents import METAFIELDS_SET
from tools.shopify_emulator import Emulator
from tools.shopify_emulator.schema import fallback_schema
from integrations.shopify.metafields import integer_metafield
from tests.integration.test_emulator import BASE, SHOP, TOKEN, FakeClock, admin_client
from tools.wsgi_adapter import wsgi_session


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(params=["shopify", "fallback"])
def emulator(request, clock):
    """Customers 1..3; a bulk mutation runs 1 s per line. On Shopify's schema and on the bare-checkout one."""
    schema = fallback_schema() if request.param == "fallback" else None
    emulator = Emulator(clock=clock, bulk_seconds_per_line=1.0, schema=schema)
    emulator.add_shop(SHOP, TOKEN)
    for i in (1, 2, 3):
        emulator.add_customer(SHOP, i)
    return emulator


@pytest.fixture
def session(emulator):
    return wsgi_session(emulator.app, BASE)


@pytest.fixture
def client(session, clock):
    return admin_client(session, clock)


def jsonl(*lines):
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def line(customer, **values):
    return {"metafields": [integer_metafield(customer, "loyalty", key, value) for key, value in values.items()]}


def test_each_line_runs_as_its_own_metafields_set(emulator, client, clock, session):
    """Line 1 names a customer Shopify lacks beside a valid one: nothing of line 1 is set (metafieldsSet is
    atomic), its result line has the userError; lines 0 and 2 are set; results carry __lineNumber."""
    path = bulk_mutation.stage_upload(client, jsonl(line(1, available=5), line(2, available=6) | {
        "metafields": [integer_metafield(2, "loyalty", "available", 6), integer_metafield(99, "loyalty", "x", 1)]},
        line(3, available=7, pending=1)))
    started = bulk_mutation.start(client, METAFIELDS_SET, path)
    assert started.status == "CREATED"
    assert bulk.bulk_status(client, started.id).status in ("CREATED", "RUNNING")
    assert emulator.metafields(SHOP, 1) == {}  # not run yet
    clock.advance(3)
    done = bulk.bulk_status(client, started.id)
    assert (done.status, done.object_count) == ("COMPLETED", 3)
    results = dict(bulk_mutation.result_lines(done.url, session))
    assert results[0] is None and results[2] is None
    assert "Owner does not exist" in results[1]
    assert emulator.metafields(SHOP, 1)["loyalty.available"]["value"] == "5"
    assert emulator.metafields(SHOP, 2) == {}
    assert set(emulator.metafields(SHOP, 3)) == {"loyalty.available", "loyalty.pending"}


def test_one_running_bulk_mutation_per_shop(emulator, client, clock):
    """A second start while one runs is refused with OPERATION_IN_PROGRESS; once it finished, accepted.
    currentBulkOperation(type: MUTATION) shows the mutation, not the latest bulk query."""
    path = bulk_mutation.stage_upload(client, jsonl(line(1, available=1)))
    first = bulk_mutation.start(client, METAFIELDS_SET, path)
    with pytest.raises(bulk_mutation.BulkMutationBusy):
        bulk_mutation.start(client, METAFIELDS_SET, path)
    clock.advance(0.5)
    current = bulk_mutation.current(client)
    assert (current.id, current.status, current.query) == (first.id, "RUNNING", METAFIELDS_SET)
    clock.advance(0.5)
    assert bulk_mutation.current(client).status == "COMPLETED"
    second = bulk_mutation.start(client, METAFIELDS_SET, path)
    assert second.id != first.id
    assert [op[1] for op in emulator.bulk_operations(SHOP)] == ["MUTATION", "MUTATION"]


def test_bad_starts_are_refused_with_shopifys_codes(client):
    """No such staged file, a file that is not JSONL, and a document that is not a valid mutation."""
    with pytest.raises(BulkOperationFailed, match="NO_SUCH_FILE"):
        bulk_mutation.start(client, METAFIELDS_SET, "tmp/1/bulk/nothing/here.jsonl")
    path = bulk_mutation.stage_upload(client, b"[1, 2]\n")
    with pytest.raises(BulkOperationFailed, match="INVALID_STAGED_UPLOAD_FILE"):
        bulk_mutation.start(client, METAFIELDS_SET, path)
    path = bulk_mutation.stage_upload(client, jsonl(line(1, available=1)))
    with pytest.raises(BulkOperationFailed, match="INVALID_MUTATION"):
        bulk_mutation.start(client, "query Q { shop { name } }", path)


def test_the_upload_needs_the_targets_policy_and_fits_the_size_limit(client, session, monkeypatch):
    """The staged target takes the multipart POST only with its own fields, and refuses a file too large."""
    from integrations.shopify.documents import STAGED_UPLOADS_CREATE
    from tools.shopify_emulator import bulk_mutation as emulated

    target = client.execute(STAGED_UPLOADS_CREATE, {"input": [{
        "resource": "BULK_MUTATION_VARIABLES", "filename": "v.jsonl", "mimeType": "text/jsonl",
        "httpMethod": "POST"}]})["stagedUploadsCreate"]["stagedTargets"][0]
    fields = {p["name"]: p["value"] for p in target["parameters"]}
    forged = session.post(target["url"], data={**fields, "policy": "forged"}, files={"file": ("v", b"{}\n")})
    assert forged.status_code == 403
    monkeypatch.setattr(emulated, "MAX_UPLOAD_BYTES", 10)
    assert session.post(target["url"], data=fields, files={"file": ("v", b"{}\n" * 10)}).status_code == 400
    assert session.post(target["url"], data=fields, files={"file": ("v", b"{}\n")}).status_code == 201


def test_the_lines_cost_the_bucket_nothing(emulator, client, clock):
    """Staging (10), starting (10) and one poll (1) are charged; 3 lines of metafieldsSet are not."""
    path = bulk_mutation.stage_upload(client, jsonl(line(1, a=1), line(2, a=2), line(3, a=3)))
    operation = bulk_mutation.start(client, METAFIELDS_SET, path)
    clock.advance(3)
    assert bulk.bulk_status(client, operation.id).status == "COMPLETED"
    stats = emulator.stats(SHOP)
    assert (stats["served"], stats["actual_cost"]) == (3, 21)
