"""QuickBooks Online: the requests that book our finalized invoices (see `payloads`)."""
