"""Shopify Flow's side of flowTriggerReceive: the app's trigger handles, Flow's checks, the triggers received.

Flow knows an app's triggers from its deployed `flow_trigger` extensions: the emulator reads them from this
repository's extensions/*/shopify.extension.toml. A trigger is refused (userErrors, nothing started) when its
handle is not one of them, its payload is not an object, or its payload is over 50,000 bytes (Flow's limit).
Each accepted trigger is recorded in the shop's `flow_triggers`, in order.
"""
import json
import tomllib
from pathlib import Path

from tools.shopify_emulator.discounts import user_error

EXTENSIONS = Path(__file__).resolve().parents[2] / "extensions"
MAX_PAYLOAD_BYTES = 50_000


def app_trigger_handles(root=EXTENSIONS):
    """The handles of the `flow_trigger` extensions under `root`."""
    handles = set()
    for path in sorted(Path(root).glob("*/shopify.extension.toml")):
        with path.open("rb") as file:
            config = tomllib.load(file)
        for extension in config.get("extensions", ()):
            if extension.get("type") == "flow_trigger":
                handles.add(extension["handle"])
    return frozenset(handles)


TRIGGER_HANDLES = app_trigger_handles()


def flow_trigger_receive(info, handle=None, payload=None, body=None):
    """flowTriggerReceive: start the workflows of trigger `handle` with `payload`. The deprecated `body` is
    not emulated: a call with it and no handle is refused, so the app cannot come to rely on it."""
    if body is not None and handle is None:
        return {"userErrors": [user_error(["body"], "Use `payload` and `handle` to execute your Flow trigger")]}
    if handle not in TRIGGER_HANDLES:
        return {"userErrors": [user_error(["handle"], f"Invalid handle '{handle}': no trigger of this app")]}
    if not isinstance(payload, dict):
        return {"userErrors": [user_error(["payload"], "Payload must be an object")]}
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        message = f"Payload size ({size} bytes) exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes"
        return {"userErrors": [user_error(["payload"], message)]}
    info.context.shop.flow_triggers.append({"handle": handle, "payload": payload,
                                            "received_at": info.context.now.isoformat()})
    return {"userErrors": []}
