"""A QuickBooks Online v3 test server: real HTTP, real python-quickbooks on the other end.

No QuickBooks emulator exists on PyPI; this one implements the endpoints and
rules our sync relies on, with fault injection (see `server`).
"""

from tests.qbo_server.server import QuickBooksTestServer, RecordedRequest

__all__ = ["QuickBooksTestServer", "RecordedRequest"]
