"""Stripe: the requests that bill our invoices (`payloads`) and the sync that sends them."""
