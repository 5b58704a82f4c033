"""The inbox writer's wire format (webhooks.writer.protocol): what the web sends is what the writer reads,
and the writer's answers reach the web in order, whatever way the bytes are split."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from webhooks import intake
from webhooks.intake import Answer, Delivery
from webhooks.writer.protocol import (HEADER, MAX_FIELD, FrameTooLarge, decode_answers, decode_delivery,
                                      encode_answer, encode_delivery)

AT = datetime(2025, 1, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)


def a_delivery(**changes) -> Delivery:
    values = dict(hmac="c2lnbmF0dXJl", topic="orders/paid", shop_domain="store-a.myshopify.com",
                  webhook_id="wh-1", body='{"id": 1, "note": "é"}'.encode(), received_at=AT)
    return Delivery(**{**values, **changes})


def test_rule_a_delivery_crosses_the_socket_unchanged_even_byte_by_byte():
    """Rule: every field of a delivery (body, signature, id, shop, topic, received_at) is read back as
    sent, and a frame arriving in pieces is read only once whole."""
    sent = [a_delivery(), a_delivery(webhook_id="wh-2", hmac=None, body=b"")]
    stream = b"".join(encode_delivery(d) for d in sent)
    buffer, read = bytearray(), []
    for byte in stream:
        buffer.append(byte)
        found = decode_delivery(buffer, max_body=1000)
        if found is not None:
            read.append(found)
    assert read == sent and buffer == bytearray()


def test_rule_a_field_over_the_limit_is_not_framed():
    """Rule: a header longer than MAX_FIELD is never sent (the web decides that delivery itself)."""
    assert encode_delivery(a_delivery(hmac="A" * (MAX_FIELD + 1))) is None


def test_rule_a_frame_announcing_too_much_is_refused_before_it_is_read():
    """Rule: a frame whose header announces a body over the limit is refused from its header alone."""
    buffer = bytearray(HEADER.pack(1001, 1, 1, 1, 1, 0.0))
    with pytest.raises(FrameTooLarge):
        decode_delivery(buffer, max_body=1000)


def test_rule_answers_arrive_in_order_and_a_partial_one_waits():
    """Rule: recorded, duplicate and any other answer (status and outcome) are read back in the order
    sent; an answer cut short stays in the buffer until the rest comes."""
    refused = Answer(401, "invalid signature")
    stream = b"".join(map(encode_answer, (intake.RECORDED, refused, intake.DUPLICATE)))
    buffer = bytearray(stream[:-3])
    assert decode_answers(buffer) == [intake.RECORDED]
    buffer += stream[-3:]
    assert decode_answers(buffer) == [refused, intake.DUPLICATE] and buffer == bytearray()
