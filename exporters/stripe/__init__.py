"""Stripe: the requests that bill our finalized invoices (see `payloads`)."""
