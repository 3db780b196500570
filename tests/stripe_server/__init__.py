"""A Stripe API test server: the subset the billing sync uses, with fault injection.

`localstripe` lacks finalize, one-off invoices and idempotency (STACK.md), so
the tests drive the real `stripe` SDK against this server instead.
"""

from tests.stripe_server.server import FakeStripe, LoggedRequest

__all__ = ["FakeStripe", "LoggedRequest"]
