"""The customer usage portal and the finance metering dashboard: static HTML (no Dagster here)."""

from datetime import date
from pathlib import Path

import duckdb

from exporters.portal.data import PortalData, read_portal_data
from exporters.portal.render import PortalSummary, render_portal


def build_portal(
    conn: duckdb.DuckDBPyConnection, output_dir: Path, period_start: date | None = None
) -> PortalSummary:
    """Read the marts for one period (default: the latest invoiced) and write the pages."""
    return render_portal(read_portal_data(conn, period_start), output_dir)


__all__ = ["PortalData", "PortalSummary", "build_portal", "read_portal_data", "render_portal"]
