"""One QuickBooks Online company in memory, with the rules the real service enforces.

Entities are stored as QuickBooks returns them (ids and SyncTokens are
strings, money is `Decimal`). The rules are those our sync depends on:
unique names (case-insensitive, inactive ones included) for customers and
items, unique invoice DocNumbers, SyncToken checks on update, a service
item's income account, totals computed from lines and never negative, and
payments reducing the balance of the invoices they are linked to.
"""

import copy
import threading
from datetime import UTC, datetime
from decimal import Decimal

from tests.qbo_server import faults
from tests.qbo_server.query import Query

ENTITIES = ("Account", "Customer", "Item", "Invoice", "Payment")
NAME_FIELDS = {"Account": "Name", "Customer": "DisplayName", "Item": "Name"}
_MONEY_FIELDS = ("Amount", "TotalAmt", "Qty", "UnitPrice", "Balance")
_READ_ONLY = ("Id", "SyncToken", "MetaData", "Balance", "TotalAmt", "UnappliedAmt", "domain")
# Read-only fields an entity nevertheless takes from the client.
_CLIENT_SET = {"Payment": ("TotalAmt",)}
_CENT = Decimal("0.01")


class Company:
    """The books of one realm; every method is atomic under one lock."""

    def __init__(self, realm_id: str, home_currency: str = "USD") -> None:
        self.realm_id = realm_id
        self.home_currency = home_currency
        self.entities: dict[str, dict[str, dict]] = {entity: {} for entity in ENTITIES}
        self._next_id = 1
        self._lock = threading.Lock()

    def all(self, entity: str) -> list[dict]:
        """Every stored `entity`, inactive ones included (for test assertions)."""
        with self._lock:
            return copy.deepcopy(list(self.entities[entity].values()))

    def insert(self, entity: str, fields: dict) -> dict:
        """Store `fields` as if created through the UI: no validation (for seeding tests)."""
        with self._lock:
            return copy.deepcopy(self._store(entity, _with_money(fields)))

    def edit(self, entity: str, entity_id: str, **changes: object) -> dict:
        """Change an entity as an accountant would in the UI: the SyncToken moves on."""
        with self._lock:
            stored = self._get(entity, entity_id)
            stored.update(changes)
            self._touch(stored)
            return copy.deepcopy(stored)

    def read(self, entity: str, entity_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._get(entity, entity_id))

    def write(self, entity: str, body: dict) -> dict:
        """POST to the entity endpoint: an update when the body has an Id, else a create."""
        body = _with_money(body)
        with self._lock:
            if body.get("Id"):
                return copy.deepcopy(self._update(entity, body))
            return copy.deepcopy(self._create(entity, body))

    def query(self, query: Query) -> tuple[str, list[dict]]:
        """Rows matching `query`; name-list entities default to active ones, as QuickBooks does."""
        entity = next((name for name in ENTITIES if name.lower() == query.entity.lower()), None)
        if entity is None:
            raise faults.query_error(f"unknown entity {query.entity!r}")
        with self._lock:
            rows = [
                row
                for row in self.entities[entity].values()
                if all(condition.matches(row) for condition in query.conditions)
                and (entity not in NAME_FIELDS or query.constrains("Active") or row.get("Active"))
            ]
            first = query.start_position - 1
            return entity, copy.deepcopy(rows[first : first + query.max_results])

    def _create(self, entity: str, body: dict) -> dict:
        settable = _CLIENT_SET.get(entity, ())
        fields = {
            key: value for key, value in body.items() if key not in _READ_ONLY or key in settable
        }
        validate = {
            "Account": self._check_name,
            "Customer": self._prepare_customer,
            "Item": self._prepare_item,
            "Invoice": self._prepare_invoice,
            "Payment": self._prepare_payment,
        }[entity]
        validate(entity, fields)
        stored = self._store(entity, fields)
        if entity == "Payment":
            self._apply_payment(stored)
        return stored

    def _update(self, entity: str, body: dict) -> dict:
        if entity not in NAME_FIELDS:
            raise faults.business_rule(f"the test server does not update {entity} entities")
        stored = self._get(entity, body["Id"])
        if str(body.get("SyncToken")) != stored["SyncToken"]:
            raise faults.stale_object(entity, stored["Id"])
        changes = {key: value for key, value in body.items() if key not in (*_READ_ONLY, "sparse")}
        updated = {**stored, **changes} if body.get("sparse") else {**_managed(stored), **changes}
        self._check_name(entity, updated, exclude=stored["Id"])
        stored.clear()
        stored.update(updated)
        self._touch(stored)
        return stored

    def _prepare_customer(self, entity: str, fields: dict) -> None:
        self._check_name(entity, fields)
        fields.setdefault("Active", True)
        fields.setdefault("CurrencyRef", {"value": self.home_currency})
        fields["FullyQualifiedName"] = fields["DisplayName"]
        fields["Balance"] = Decimal(0)

    def _prepare_item(self, entity: str, fields: dict) -> None:
        self._check_name(entity, fields)
        if ":" in fields["Name"]:
            raise faults.validation(
                "2050", "Invalid String", "Name cannot contain a colon (:)", "Name"
            )
        fields.setdefault("Active", True)
        fields["FullyQualifiedName"] = fields["Name"]
        if fields.get("Type") == "Service":
            ref = fields.get("IncomeAccountRef") or {}
            if not ref.get("value"):
                raise faults.required("IncomeAccountRef")
            if ref["value"] not in self.entities["Account"]:
                raise faults.invalid_reference("IncomeAccountRef", ref)

    def _prepare_invoice(self, entity: str, fields: dict) -> None:
        customer = self._active_ref(fields, "Customer", "CustomerRef")
        currency = (fields.get("CurrencyRef") or {}).get("value", self.home_currency)
        if currency != customer["CurrencyRef"]["value"]:
            raise faults.business_rule(
                f"the invoice currency {currency} differs from the customer's "
                f"{customer['CurrencyRef']['value']}"
            )
        fields["CurrencyRef"] = {"value": currency}
        doc_number = fields.get("DocNumber")
        if doc_number:
            for existing in self.entities["Invoice"].values():
                if existing.get("DocNumber") == doc_number:
                    raise faults.duplicate_doc_number(doc_number, existing["Id"])
        lines = [line for line in fields.get("Line") or [] if _is_sales_line(line)]
        if not lines:
            raise faults.required("Line")
        for number, line in enumerate(lines, start=1):
            self._check_sales_line(line)
            line["Id"] = str(number)
        total = sum((line["Amount"] for line in lines), Decimal(0))
        if total < 0:
            raise faults.business_rule(f"the transaction total {total} cannot be negative")
        subtotal = {"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        fields["Line"] = [*lines, subtotal]
        fields["TotalAmt"] = total
        fields["Balance"] = total
        fields["LinkedTxn"] = []

    def _check_sales_line(self, line: dict) -> None:
        if "Amount" not in line:
            raise faults.required("Line.Amount")
        detail = line.get("SalesItemLineDetail") or {}
        self._active_ref(detail, "Item", "ItemRef")
        quantity, price = detail.get("Qty"), detail.get("UnitPrice")
        priced = quantity is not None and price is not None
        if priced and (quantity * price).quantize(_CENT) != line["Amount"]:
            raise faults.validation(
                "6070",
                "Amount is not equal to UnitPrice * Qty",
                f"Amount {line['Amount']} is not equal to UnitPrice {price} * Qty {quantity}",
                "Line.Amount",
            )

    def _prepare_payment(self, entity: str, fields: dict) -> None:
        customer = self._active_ref(fields, "Customer", "CustomerRef")
        if "TotalAmt" not in fields:
            raise faults.required("TotalAmt")
        total = fields["TotalAmt"]
        applied = Decimal(0)
        for line in fields.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                invoice = self.entities["Invoice"].get(str(linked.get("TxnId")))
                if linked.get("TxnType") != "Invoice" or invoice is None:
                    raise faults.invalid_reference("LinkedTxn", linked)
                if invoice["CustomerRef"]["value"] != customer["Id"]:
                    raise faults.business_rule(
                        f"invoice {invoice['Id']} belongs to another customer"
                    )
                if line["Amount"] > invoice["Balance"]:
                    raise faults.business_rule(
                        f"the amount applied {line['Amount']} exceeds invoice {invoice['Id']}'s "
                        f"open balance {invoice['Balance']}"
                    )
            applied += line["Amount"]
        if applied > total:
            raise faults.business_rule(f"lines apply {applied}, more than the payment's {total}")
        fields["TotalAmt"] = total
        fields["UnappliedAmt"] = total - applied
        fields["CurrencyRef"] = customer["CurrencyRef"]

    def _apply_payment(self, payment: dict) -> None:
        for line in payment.get("Line") or []:
            for linked in line["LinkedTxn"]:
                invoice = self.entities["Invoice"][str(linked["TxnId"])]
                invoice["Balance"] -= line["Amount"]
                invoice["LinkedTxn"].append({"TxnId": payment["Id"], "TxnType": "Payment"})
                self._touch(invoice)

    def _check_name(self, entity: str, fields: dict, exclude: str | None = None) -> None:
        field = NAME_FIELDS[entity]
        name = fields.get(field)
        if not name:
            raise faults.required(field)
        for existing in self.entities[entity].values():
            if existing["Id"] != exclude and existing[field].casefold() == name.casefold():
                raise faults.duplicate_name(entity, name)

    def _active_ref(self, fields: dict, entity: str, element: str) -> dict:
        ref = fields.get(element) or {}
        found = self.entities[entity].get(str(ref.get("value")))
        if found is None or not found.get("Active", True):
            raise faults.invalid_reference(element, ref)
        return found

    def _store(self, entity: str, fields: dict) -> dict:
        now = _now()
        stored = {
            **fields,
            "Id": str(self._next_id),
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
        }
        self._next_id += 1
        self.entities[entity][stored["Id"]] = stored
        return stored

    def _get(self, entity: str, entity_id: str) -> dict:
        if entity_id not in self.entities[entity]:
            raise faults.not_found(entity, entity_id)
        return self.entities[entity][entity_id]

    @staticmethod
    def _touch(stored: dict) -> None:
        stored["SyncToken"] = str(int(stored["SyncToken"]) + 1)
        stored["MetaData"] = {**stored["MetaData"], "LastUpdatedTime": _now()}


def _managed(stored: dict) -> dict:
    """What a full update keeps of the stored entity: the fields the client cannot set."""
    return {key: value for key, value in stored.items() if key in _READ_ONLY}


def _is_sales_line(line: dict) -> bool:
    return line.get("DetailType") != "SubTotalLineDetail"


def _with_money(value: object, key: str = "") -> object:
    """A copy of a request body with money fields as `Decimal` (the SDK sends strings)."""
    if isinstance(value, dict):
        return {name: _with_money(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_with_money(item) for item in value]
    if key in _MONEY_FIELDS and value is not None and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
