"""Payment methods: placement on the user's shard, the token stored and never returned (and never a card
number), the default method rules, deletion that keeps the row for past transactions, and bad input."""
from __future__ import annotations

import uuid

import grpc
import pytest

from elearning.payments.v1 import payments_service_pb2 as pb
from shared import ids
from tests.integration.payments_client import SHARDS, STRONG, add_card, card_message, counts, stub, student
from tests.integration.users_client import error_info, field_violations


def listed(channel, user_id: int) -> list[pb.PaymentMethod]:
    return list(stub(channel).ListPaymentMethods(pb.ListPaymentMethodsRequest(user_id=user_id), timeout=5,
                                                 metadata=STRONG).payment_methods)


def test_a_method_lives_on_its_users_shard_and_only_its_token_and_last4_are_stored(cluster, gateway_channel):
    user = student(gateway_channel, "ASIA")
    made = add_card(gateway_channel, user.id, token="tok_1Nv0FGQ9", last4="1881")
    assert cluster.settings().shard_map.for_id(made.id).name == "apac"
    assert (made.user_id, made.kind, made.card_brand, made.last4, made.is_default) == (
        user.id, pb.PAYMENT_METHOD_KIND_CARD, "visa", "1881", True)
    for shard in SHARDS:
        rows = cluster.query(shard, "primary", "SELECT vault_token, last4 FROM payment_methods WHERE id = %s",
                             (made.id,))
        assert rows == ([("tok_1Nv0FGQ9", "1881")] if shard == "apac" else [])
    assert "tok_1Nv0FGQ9" not in str(listed(gateway_channel, user.id))


def test_defaults_follow_adds_and_deletes(cluster, gateway_channel):
    user = student(gateway_channel, "AFRICA")
    first = add_card(gateway_channel, user.id)
    second = stub(gateway_channel).AddPaymentMethod(pb.AddPaymentMethodRequest(
        payment_method=pb.PaymentMethod(user_id=user.id, kind=pb.PAYMENT_METHOD_KIND_PAYPAL, billing_name="Ana",
                                        country_code="za"),
        token="paypal-ba-123"), timeout=5)
    third = add_card(gateway_channel, user.id, is_default=True, last4="0005")
    assert not second.is_default and second.country_code == "ZA" and second.last4 == ""
    assert [(m.id, m.is_default) for m in listed(gateway_channel, user.id)] == [
        (first.id, False), (second.id, False), (third.id, True)]
    stub(gateway_channel).DeletePaymentMethod(pb.DeletePaymentMethodRequest(id=third.id), timeout=5)
    assert [(m.id, m.is_default) for m in listed(gateway_channel, user.id)] == [(first.id, False), (second.id, True)]
    assert cluster.query("eu", "primary", "SELECT vault_token IS NULL, deleted_at IS NOT NULL, is_default "
                                          "FROM payment_methods WHERE id = %s", (third.id,)) == [(True, True, False)]
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).DeletePaymentMethod(pb.DeletePaymentMethodRequest(id=third.id), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_list_payment_methods_pages_with_a_keyset_token(gateway_channel):
    user = student(gateway_channel, "EUROPE")
    made = [add_card(gateway_channel, user.id, last4=f"{n:04d}").id for n in range(5)]
    seen, token = [], ""
    while True:
        page = stub(gateway_channel).ListPaymentMethods(pb.ListPaymentMethodsRequest(
            user_id=user.id, page_size=2, page_token=token), timeout=5, metadata=STRONG)
        seen += [m.id for m in page.payment_methods]
        token = page.next_page_token
        if not token:
            break
    assert seen == made
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).ListPaymentMethods(pb.ListPaymentMethodsRequest(user_id=made[0], page_token="x"),
                                                 timeout=5)
    assert "page_token" in field_violations(caught.value)


BAD = {
    "card number as token": (dict(), "4111 1111 1111 1111", "token"),
    "digits-only token": (dict(), "4000056655665556", "token"),
    "blank token": (dict(), "  ", "token"),
    "full number as last4": (dict(last4="4111111111111111"), "tok_ok", "payment_method.last4"),
    "three digits": (dict(last4="123"), "tok_ok", "payment_method.last4"),
    "expired card": (dict(exp_year=2020), "tok_ok", "payment_method.exp_year"),
    "month 13": (dict(exp_month=13), "tok_ok", "payment_method.exp_month"),
    "no brand": (dict(card_brand=""), "tok_ok", "payment_method.card_brand"),
    "unknown country": (dict(country_code="XX"), "tok_ok", "payment_method.country_code"),
    "blank billing name": (dict(billing_name=" "), "tok_ok", "payment_method.billing_name"),
    "no kind": (dict(kind=pb.PAYMENT_METHOD_KIND_UNSPECIFIED), "tok_ok", "payment_method.kind"),
    "paypal with last4": (dict(kind=pb.PAYMENT_METHOD_KIND_PAYPAL, card_brand="", exp_month=0, exp_year=0), "tok_ok",
                          "payment_method.last4"),
    "malformed user": (dict(user_id=7), "tok_ok", "payment_method.user_id"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_methods_are_invalid_argument_and_write_nothing(cluster, gateway_channel, case):
    overrides, token, field = dict(BAD[case][0]), BAD[case][1], BAD[case][2]
    user_id = overrides.pop("user_id", None) or student(gateway_channel, "SOUTH_AMERICA").id
    before = counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        stub(gateway_channel).AddPaymentMethod(pb.AddPaymentMethodRequest(
            payment_method=card_message(user_id, **overrides), token=token, request_id=str(uuid.uuid4())), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value), field_violations(caught.value)
    assert "4111" not in caught.value.details()
    assert counts(cluster) == before


def test_a_method_for_a_missing_user_is_not_found(cluster, gateway_channel):
    ghost = ids.encode(ids.EPOCH_MS + 1, cluster.settings().shard_map.by_name("na").number, 1)
    before = counts(cluster)
    with pytest.raises(grpc.RpcError) as caught:
        add_card(gateway_channel, ghost)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert counts(cluster) == before


def test_add_payment_method_is_idempotent(gateway_channel):
    user = student(gateway_channel, "NORTH_AMERICA")
    key = str(uuid.uuid4())
    first = add_card(gateway_channel, user.id, request_id=key)
    assert add_card(gateway_channel, user.id, request_id=key) == first
    assert len(listed(gateway_channel, user.id)) == 1
    with pytest.raises(grpc.RpcError) as caught:
        add_card(gateway_channel, user.id, request_id=key, last4="9999")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(caught.value) and error_info(caught.value).reason == "REQUEST_ID_REUSED"
