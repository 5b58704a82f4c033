"""Bulk mutations as Shopify runs them: `stagedUploadsCreate` (a target on the emulator itself that takes the
multipart POST), `bulkOperationRunMutation` (the mutation run once per JSONL line, each line on its own, as
its own request would be: atomic per line, its userErrors in its result line), one running bulk mutation per
shop (OPERATION_IN_PROGRESS otherwise), and the result JSONL with `__lineNumber`.

A bulk mutation finishes `bulk_seconds_per_line` x lines after its creation on the emulator's clock (0: at
the first look); its lines run then, when it is first looked at (node, currentBulkOperation, a new start).
The lines cost the shop's bucket nothing: only the requests about them (start, polls) are charged."""
import json
import secrets
from datetime import timedelta

import graphql

from tools.shopify_emulator.discounts import user_error
from tools.shopify_emulator.resolution import field_resolver, type_resolver
from tools.shopify_emulator.store import BulkOperation, StagedUpload, gid
from tools.shopify_emulator.views import bulk_view

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""The largest variables file the staged upload takes (the limit Shopify states for bulk mutations)."""

UNFINISHED = ("CREATED", "RUNNING")


def staged_uploads_create(info, input):
    """Mutation.stagedUploadsCreate, for bulk mutation variables (POST); other resources are not emulated."""
    shop = info.context.shop
    targets = []
    for index, wanted in enumerate(input):
        if wanted["resource"] != "BULK_MUTATION_VARIABLES" or wanted.get("httpMethod") != "POST":
            raise graphql.GraphQLError("The Shopify emulator stages only BULK_MUTATION_VARIABLES uploads by POST.")
        key = f"tmp/{shop.next_id()}/bulk/{secrets.token_hex(16)}/{wanted['filename']}"
        policy = secrets.token_urlsafe(24)
        shop.staged_uploads[key] = StagedUpload(policy)
        parameters = {"key": key, "Content-Type": wanted["mimeType"], "success_action_status": "201",
                      "acl": "private", "policy": policy}
        targets.append({
            "url": f"{info.context.base_url.rstrip('/')}/_emulator/{shop.domain}/staged-uploads",
            "resourceUrl": None,
            "parameters": [{"name": name, "value": value} for name, value in parameters.items()],
        })
    return {"stagedTargets": targets, "userErrors": []}


def receive_upload(shop, form, file_bytes):
    """The storage side of a staged target: (HTTP status, body). The form must carry the target's key and
    policy; the file must fit MAX_UPLOAD_BYTES."""
    staged = shop.staged_uploads.get(form.get("key"))
    if staged is None or form.get("policy") != staged.policy:
        return 403, "<Error><Code>AccessDenied</Code><Message>Invalid policy or key</Message></Error>"
    if file_bytes is None:
        return 400, "<Error><Code>InvalidArgument</Code><Message>No file</Message></Error>"
    if len(file_bytes) > MAX_UPLOAD_BYTES:
        return 400, "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum " \
                    "allowed size</Message></Error>"
    staged.data = file_bytes
    return 201, f"<PostResponse><Key>{form['key']}</Key></PostResponse>"


def bulk_operation_run_mutation(info, mutation, stagedUploadPath, clientIdentifier=None, groupObjects=True):
    """Mutation.bulkOperationRunMutation: checks what Shopify checks before it accepts the operation."""
    shop, now = info.context.shop, info.context.now
    running = current(info, "MUTATION")
    if running is not None and running.status in UNFINISHED:
        message = f"A bulk mutation operation for this app and shop is already in progress: " \
                  f"{gid('BulkOperation', running.id)}."
        return _refused(["mutation"], message, "OPERATION_IN_PROGRESS")
    try:
        document = graphql.parse(mutation)
    except graphql.GraphQLError as error:
        return _refused(["mutation"], error.message, "INVALID_MUTATION")
    problems = graphql.validate(info.schema, document)
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    if problems or len(operations) != 1 or operations[0].operation != graphql.OperationType.MUTATION:
        message = problems[0].message if problems else "The bulk mutation must be one mutation operation."
        return _refused(["mutation"], message, "INVALID_MUTATION")
    staged = shop.staged_uploads.get(stagedUploadPath)
    if staged is None or staged.data is None:
        return _refused(["stagedUploadPath"], "The JSONL file could not be found.", "NO_SUCH_FILE")
    try:
        variables = [json.loads(line) for line in staged.data.decode().splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError):
        variables = None
    if variables is None or not all(isinstance(v, dict) for v in variables):
        return _refused(["stagedUploadPath"], "Unexpected file structure - expected JSONL",
                        "INVALID_STAGED_UPLOAD_FILE")
    operation = BulkOperation(shop.next_id(), mutation, now, status="CREATED", data=b"", type="MUTATION",
                              variables=variables,
                              finishes_at=now + timedelta(seconds=shop.bulk_seconds_per_line * len(variables)))
    shop.bulk_operations[operation.id] = operation
    return {"bulkOperation": bulk_view(info, operation), "userErrors": []}


def current(info, type):
    """The shop's latest bulk operation of `type`, brought up to date, or None."""
    found = [op for op in info.context.shop.bulk_operations.values() if op.type == type]
    latest = max(found, key=lambda op: op.id) if found else None
    return advance(info, latest) if latest is not None else None


def advance(info, operation):
    """Bring a bulk mutation up to the request's time: RUNNING once created, and once its time has come,
    every line run and the result JSONL written. Returns the operation."""
    if operation.type != "MUTATION" or operation.status not in UNFINISHED:
        return operation
    now = info.context.now
    if now < operation.finishes_at:
        operation.status = "RUNNING" if now > operation.created_at else operation.status
        return operation
    document = graphql.parse(operation.query)
    lines = []
    for number, variables in enumerate(operation.variables):
        # Each line is its own mutation: what one line sets is set whatever the others do.
        result = graphql.execute(info.schema, document, root_value=info.root_value, context_value=info.context,
                                 variable_values=variables, field_resolver=field_resolver,
                                 type_resolver=type_resolver)
        line = {"data": result.data} if not result.errors else {"errors": [e.formatted for e in result.errors]}
        line["__lineNumber"] = number
        lines.append(json.dumps(line, separators=(",", ":")) + "\n")
    operation.data = "".join(lines).encode()
    operation.object_count = operation.root_object_count = len(lines)
    operation.variables = []
    operation.status, operation.completed_at = "COMPLETED", operation.finishes_at
    return operation


def _refused(field, message, code):
    """A payload with one BulkMutationUserError and no operation."""
    return {"bulkOperation": None, "userErrors": [user_error(field, message, code)]}
