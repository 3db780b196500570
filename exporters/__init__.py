"""Plain-Python exporters: invoice documents, PDFs, and Stripe/QuickBooks requests.

No Dagster here: orchestration wraps these functions in assets, and tests call
them directly.
"""
