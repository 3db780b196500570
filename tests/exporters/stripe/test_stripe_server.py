"""The Stripe test server answers the real SDK as Stripe documents it."""

from collections.abc import Iterator

import pytest
import stripe

from tests.stripe_server import FakeStripe
from tests.stripe_server.forms import parse_form


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def client(server: FakeStripe) -> stripe.StripeClient:
    stripe.enable_telemetry = False
    return stripe.StripeClient(
        server.api_key, base_addresses={"api": server.api_base}, max_network_retries=0
    )


def post(client: stripe.StripeClient, path: str, **params) -> dict:
    return client.raw_request("post", path, **params).data


@pytest.fixture
def customer(client: stripe.StripeClient) -> dict:
    return post(client, "/v1/customers", name="Acme", metadata={"customer_id": "acme"})


def test_nested_form_fields_decode_to_dicts_and_lists():
    assert parse_form("metadata[a]=1&period[start]=5&expand[0]=x&expand[1]=y&name=") == {
        "metadata": {"a": "1"},
        "period": {"start": "5"},
        "expand": ["x", "y"],
        "name": "",
    }


def test_requests_without_the_right_bearer_key_are_refused(server):
    wrong = stripe.StripeClient("sk_test_wrong_key_1234", base_addresses={"api": server.api_base})
    with pytest.raises(stripe.AuthenticationError) as raised:
        wrong.raw_request("get", "/v1/customers")
    assert raised.value.http_status == 401
    assert raised.value.user_message == "Invalid API Key provided: sk_test_****1234"


def test_objects_have_stripe_shapes(client, customer):
    assert customer["id"].startswith("cus_")
    assert (customer["object"], customer["livemode"]) == ("customer", False)
    assert customer["metadata"] == {"customer_id": "acme"}
    found = client.raw_request(
        "get", "/v1/customers/search", query="metadata['customer_id']:'acme'"
    ).data
    assert found["object"] == "search_result"
    assert customer["id"] in [c["id"] for c in found["data"]]


def test_invoice_items_take_amount_or_quantity_times_unit_amount(client, customer):
    invoice = post(client, "/v1/invoices", customer=customer["id"], currency="usd")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        post(
            client,
            "/v1/invoiceitems",
            customer=customer["id"],
            invoice=invoice["id"],
            amount=100,
            unit_amount_decimal="2.5",
        )
    assert raised.value.param == "amount"
    item = post(
        client,
        "/v1/invoiceitems",
        customer=customer["id"],
        invoice=invoice["id"],
        quantity=3,
        unit_amount_decimal="2.5",
    )
    assert (item["id"][:3], item["amount"], item["invoice"]) == ("ii_", 8, invoice["id"])
    post(client, "/v1/invoiceitems", customer=customer["id"], invoice=invoice["id"], amount=-3)
    finalized = post(client, f"/v1/invoices/{invoice['id']}/finalize")
    assert (finalized["status"], finalized["amount_due"]) == ("open", 5)
    with pytest.raises(stripe.InvalidRequestError, match="draft invoices"):
        post(client, "/v1/invoiceitems", customer=customer["id"], invoice=invoice["id"], amount=1)


def test_new_invoices_pull_pending_items_only_when_asked(client, customer):
    pending = post(client, "/v1/invoiceitems", customer=customer["id"], amount=700, currency="usd")
    default = post(client, "/v1/invoices", customer=customer["id"], currency="usd")
    assert default["lines"]["data"] == []
    included = post(
        client,
        "/v1/invoices",
        customer=customer["id"],
        currency="usd",
        pending_invoice_items_behavior="include",
    )
    assert [
        line["parent"]["invoice_item_details"]["invoice_item"] for line in included["lines"]["data"]
    ] == [pending["id"]]


def test_zero_total_invoice_is_paid_when_finalized(client, customer):
    invoice = post(client, "/v1/invoices", customer=customer["id"], currency="eur")
    finalized = post(client, f"/v1/invoices/{invoice['id']}/finalize")
    assert (finalized["status"], finalized["amount_paid"]) == ("paid", 0)
    assert finalized["status_transitions"]["paid_at"] is not None


def test_declined_card_leaves_the_invoice_open(server, client, customer):
    server.cards.decline("acme")
    invoice = post(client, "/v1/invoices", customer=customer["id"], currency="usd")
    post(client, "/v1/invoiceitems", customer=customer["id"], invoice=invoice["id"], amount=500)
    post(client, f"/v1/invoices/{invoice['id']}/finalize")
    with pytest.raises(stripe.CardError) as raised:
        post(client, f"/v1/invoices/{invoice['id']}/pay")
    assert (raised.value.http_status, raised.value.code) == (402, "card_declined")
    intent = raised.value.error.payment_intent
    assert (intent.id[:3], intent.status) == ("pi_", "requires_payment_method")
    reread = client.raw_request("get", f"/v1/invoices/{invoice['id']}").data
    assert (reread["status"], reread["attempt_count"]) == ("open", 1)
    server.cards.accept("acme")
    assert post(client, f"/v1/invoices/{invoice['id']}/pay")["status"] == "paid"


def test_idempotency_key_replays_and_refuses_other_parameters(client, customer):
    first = client.raw_request("post", "/v1/customers", name="B", idempotency_key="k-b")
    again = client.raw_request("post", "/v1/customers", name="B", idempotency_key="k-b")
    assert again.data["id"] == first.data["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.raw_request("post", "/v1/customers", name="C", idempotency_key="k-b")


def _open_invoice(client: stripe.StripeClient, customer: dict, amount: int) -> dict:
    invoice = post(client, "/v1/invoices", customer=customer["id"], currency="usd")
    post(client, "/v1/invoiceitems", customer=customer["id"], invoice=invoice["id"], amount=amount)
    return post(client, f"/v1/invoices/{invoice['id']}/finalize")


def test_credit_note_on_an_open_invoice_lowers_what_is_due(server, client, customer):
    invoice = _open_invoice(client, customer, 1000)

    note = post(client, "/v1/credit_notes", invoice=invoice["id"], amount=300, memo="goodwill")

    assert (note["id"][:3], note["object"], note["status"], note["type"]) == (
        "cn_",
        "credit_note",
        "issued",
        "pre_payment",
    )
    assert (note["amount"], note["pre_payment_amount"], note["post_payment_amount"]) == (
        300,
        300,
        0,
    )
    reread = client.raw_request("get", f"/v1/invoices/{invoice['id']}").data
    assert (reread["total"], reread["amount_due"], reread["amount_remaining"]) == (1000, 700, 700)
    assert reread["pre_payment_credit_notes_amount"] == 300
    paid = post(client, f"/v1/invoices/{invoice['id']}/pay")
    assert (paid["status"], paid["amount_paid"]) == ("paid", 700)
    assert any(c["amount"] == 700 for c in server.account.charges.values())
    listed = client.raw_request("get", "/v1/credit_notes", invoice=invoice["id"]).data
    assert [n["id"] for n in listed["data"]] == [note["id"]]


def test_credit_note_by_lines_sums_them(client, customer):
    invoice = _open_invoice(client, customer, 1000)
    lines = [
        {"type": "custom_line_item", "description": "Refund", "quantity": 2, "unit_amount": 50}
    ]

    note = post(client, "/v1/credit_notes", invoice=invoice["id"], lines=lines)

    assert note["amount"] == 100


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "One of `amount`, `lines`, or `shipping_cost` must be provided."),
        ({"amount": 0}, "must be greater than 0"),
        ({"amount": 1001}, "cannot exceed the invoice's remaining creditable amount (1000)"),
    ],
)
def test_credit_note_amounts_are_checked(client, customer, params, message):
    invoice = _open_invoice(client, customer, 1000)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        post(client, "/v1/credit_notes", invoice=invoice["id"], **params)
    assert message in raised.value.user_message
    assert raised.value.http_status == 400


def test_credit_beyond_what_remains_due_must_be_settled_outside_the_invoice(client, customer):
    invoice = _open_invoice(client, customer, 1000)
    post(client, "/v1/credit_notes", invoice=invoice["id"], amount=300)
    post(client, f"/v1/invoices/{invoice['id']}/pay")
    with pytest.raises(stripe.InvalidRequestError, match=r"post-payment amount \(200\)"):
        post(client, "/v1/credit_notes", invoice=invoice["id"], amount=200)

    after = post(
        client, "/v1/credit_notes", invoice=invoice["id"], amount=200, out_of_band_amount=200
    )

    assert (after["type"], after["pre_payment_amount"], after["post_payment_amount"]) == (
        "post_payment",
        0,
        200,
    )
    reread = client.raw_request("get", f"/v1/invoices/{invoice['id']}").data
    assert (reread["amount_paid"], reread["post_payment_credit_notes_amount"]) == (700, 200)


def test_credit_notes_need_a_finalized_invoice(client, customer):
    draft = post(client, "/v1/invoices", customer=customer["id"], currency="usd")
    with pytest.raises(stripe.InvalidRequestError, match="is draft"):
        post(client, "/v1/credit_notes", invoice=draft["id"], amount=1)
    with pytest.raises(stripe.InvalidRequestError, match="No such invoice"):
        post(client, "/v1/credit_notes", invoice="in_missing", amount=1)
