"""The inbox writer's wire format, the one thing its client and server share.

A delivery is HEADER (the lengths of the body, signature, webhook id, shop and topic; received_at as a UTC
epoch) then those five in that order. An answer is b"R" (200 recorded), b"D" (200 duplicate) or
b"A" + ANSWER_HEADER (status, outcome length) + the outcome. A connection's answers come in the order of
its deliveries.
"""
from __future__ import annotations

import struct
from datetime import datetime, timezone

from webhooks import intake
from webhooks.intake import Answer, Delivery

HEADER = struct.Struct("!IHHHHd")
"""body, signature, webhook id, shop and topic lengths; received_at (seconds since the epoch, UTC)"""
ANSWER_HEADER = struct.Struct("!HH")
"""an answer other than recorded or duplicate: HTTP status, length of the outcome (UTF-8)"""
MAX_FIELD = 1024
"""Longest signature, webhook id, shop or topic accepted in a frame (the columns hold 255)."""

_RECORDED, _DUPLICATE = b"R"[0], b"D"[0]


class FrameTooLarge(ValueError):
    """A frame announcing a body or a field over the limits: its connection is not to be trusted."""


def encode_delivery(delivery: Delivery) -> bytes | None:
    """The delivery's frame; None when a field is over MAX_FIELD (the writer would close the connection)."""
    fields = [(value or "").encode() for value in
              (delivery.hmac, delivery.webhook_id, delivery.shop_domain, delivery.topic)]
    if max(map(len, fields)) > MAX_FIELD:
        return None
    return b"".join((HEADER.pack(len(delivery.body), *map(len, fields), delivery.received_at.timestamp()),
                     delivery.body, *fields))


def decode_delivery(buffer: bytearray, max_body: int) -> Delivery | None:
    """Take the first whole frame off `buffer` and return its delivery; None while it is incomplete.
    Raises FrameTooLarge when its header announces more than `max_body` or MAX_FIELD."""
    if len(buffer) < HEADER.size:
        return None
    *lengths, received = HEADER.unpack_from(buffer)
    if lengths[0] > max_body or max(lengths[1:]) > MAX_FIELD:
        raise FrameTooLarge(f"a frame of {lengths[0]} bytes, fields {lengths[1:]}")
    end = HEADER.size + sum(lengths)
    if len(buffer) < end:
        return None
    view, at = memoryview(buffer), HEADER.size + lengths[0]
    body = bytes(view[HEADER.size:at])
    fields = []
    for length in lengths[1:]:
        fields.append(str(view[at:at + length], "utf-8", "replace"))
        at += length
    view.release()
    del buffer[:end]
    return Delivery(fields[0] or None, fields[3], fields[2], fields[1], body,
                    datetime.fromtimestamp(received, timezone.utc))


def encode_answer(answer: Answer) -> bytes:
    """The answer's bytes (one byte for the two common ones; the outcome cut to MAX_FIELD)."""
    if answer is intake.RECORDED:
        return b"R"
    if answer is intake.DUPLICATE:
        return b"D"
    message = answer.message.encode()[:MAX_FIELD]
    return b"A" + ANSWER_HEADER.pack(answer.status, len(message)) + message


def decode_answers(buffer: bytearray) -> list[Answer]:
    """Take every whole answer off `buffer`, in order (an incomplete last one stays for the next read)."""
    answers, at = [], 0
    while at < len(buffer):
        kind = buffer[at]
        if kind == _RECORDED:
            answer, at = intake.RECORDED, at + 1
        elif kind == _DUPLICATE:
            answer, at = intake.DUPLICATE, at + 1
        else:
            if len(buffer) < at + 1 + ANSWER_HEADER.size:
                break
            status, length = ANSWER_HEADER.unpack_from(buffer, at + 1)
            start = at + 1 + ANSWER_HEADER.size
            if len(buffer) < start + length:
                break
            answer = Answer(status, bytes(buffer[start:start + length]).decode("utf-8", "replace"))
            at = start + length
        answers.append(answer)
    del buffer[:at]
    return answers
