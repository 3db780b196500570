"""QuickBooks Online: the requests that book our finalized invoices, and the sync that sends them.

`payloads` builds the requests (pure; also what the outbox shows);
`sync.sync_invoices_to_quickbooks` sends them through python-quickbooks
with `settings.QuickBooksSettings.from_environ(os.environ)`, keeping what it
booked in the warehouse's `sync` schema (`state`).
"""
