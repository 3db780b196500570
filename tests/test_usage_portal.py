"""The customer usage portal and finance dashboard, opened in a real headless Chromium.

The pages are built by the `usage_portal` asset (and `billing portal`) from the
tiny company billed for September and October (fixtures/tiny_company/EXPECTED.md).
Without Chromium the browser tests skip locally; under CI (env CI set) they fail.
"""

import os
import shutil
import subprocess
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import AssetKey, materialize
from dagster_dbt import get_asset_key_for_model
from PIL import Image

from exporters.portal.data import CustomerPage, Overview, PortalData
from exporters.portal.render import render_portal
from orchestration.assets.portal import usage_portal
from orchestration.assets.rating import billing_dbt_models
from orchestration.cli import main
from orchestration.definitions import ALL_ASSETS, billing_resources, defs
from orchestration.runs import QUIET_CONSOLE, Deployment

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def portal(billed: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal of October, written by the Dagster asset into a folder of its own."""
    output_dir = tmp_path_factory.mktemp("portal-output")
    result = materialize(
        ALL_ASSETS,
        selection=[usage_portal],
        partition_key="2026-10-01",
        resources=billing_resources(
            data_dir=str(billed.data_dir),
            db_path=str(billed.db_path),
            output_dir=str(output_dir),
        ),
        run_config=QUIET_CONSOLE,
    )
    assert result.success
    return output_dir / "portal"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the browser tests")
    pytest.skip(message)


def _browse(page: Path, *mode: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [
                _chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1280,1600",
                *mode,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def test_one_page_per_customer_and_an_overview(portal: Path) -> None:
    assert sorted(p.name for p in (portal / "customers").iterdir()) == ["acme.html", "beta.html"]
    acme = (portal / "customers" / "acme.html").read_text()
    assert "Acme Analytics" in acme and "$416.24" in acme and "<svg" in acme
    overview = (portal / "index.html").read_text()
    assert "Tiny Co" in overview and 'href="customers/acme.html"' in overview
    assert "http://" not in acme.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_billing_portal_command_writes_the_pages(
    billed: Deployment, tmp_path: Path, capsys
) -> None:
    assert main(["portal", "--db", str(billed.db_path), "--out", str(tmp_path)]) == 0
    assert "2 customer pages" in capsys.readouterr().out
    assert (tmp_path / "portal" / "customers" / "beta.html").exists()
    assert main(["portal", "--db", str(tmp_path / "missing.duckdb")]) == 1


def test_customer_page_in_chromium_shows_name_numbers_and_chart(
    portal: Path, tmp_path: Path
) -> None:
    page = portal / "customers" / "acme.html"
    dom = _browse(page, "--dump-dom").stdout
    assert '<h1 data-testid="customer-name">Acme Analytics</h1>' in dom
    assert '<div class="value" data-testid="invoice-total">$416.24</div>' in dom
    # 400 API calls (150 on Starter + 250 on Growth) and the storage peak of 12.5 GB
    assert "400 call" in dom and "12.5 GB" in dom
    assert dom.count("<rect ") >= 2 * 31

    screenshot = tmp_path / "acme.png"
    _browse(page, f"--screenshot={screenshot}")
    image = Image.open(screenshot).convert("RGB")
    assert image.size == (1280, 1600)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "the page rendered (nearly) blank"
    header_blue = sum(count for count, rgb in colors if rgb == (0x1F, 0x3A, 0x5F))
    bar_blue = sum(count for count, rgb in colors if rgb == (0x1F, 0x6F, 0xEB))
    assert header_blue > 10_000 and bar_blue > 100


def test_overview_in_chromium_shows_revenue_over_time(portal: Path, tmp_path: Path) -> None:
    dom = _browse(portal / "index.html", "--dump-dom").stdout
    assert "Tiny Co · Metering and revenue" in dom
    # October MRR: 384.52 (acme) + 49.00 (beta)
    assert '<div class="value" data-testid="mrr">$433.52</div>' in dom
    assert "<polyline" in dom and "Oct 2026" in dom
    screenshot = tmp_path / "overview.png"
    _browse(portal / "index.html", f"--screenshot={screenshot}")
    colors = Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50


def test_pages_escape_what_customers_are_called(tmp_path: Path) -> None:
    overview = Overview(
        company_name="Tiny <Co>",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 11, 1),
        revenue_by_period=[],
        daily_events={},
        mrr_by_plan=[],
        retention=[],
        revenue_by_meter=[],
        top_customers=[],
        gaps=[],
        flagged_files=[],
        customers=[("x/../y", "<script>alert(1)</script>", None, None, None, None)],
    )
    page = CustomerPage(
        customer_id="x/../y",
        name="<script>alert(1)</script>",
        segment="smb",
        currency="USD",
        tax_rate=Decimal(0),
        plan_id=None,
        usage=(),
        daily={},
        invoice=None,
        credits=(),
        forecast_as_of=None,
        period_complete=False,
    )
    render_portal(PortalData(overview, (page,)), tmp_path)
    html = (tmp_path / "portal" / "customers" / "x_.._y.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    index = (tmp_path / "portal" / "index.html").read_text()
    assert "Tiny &lt;Co&gt;" in index and 'href="customers/x_.._y.html"' in index


def test_portal_asset_reads_the_marts_it_shows() -> None:
    graph = defs.resolve_asset_graph()
    parents = graph.get(AssetKey("usage_portal")).parent_keys
    assert get_asset_key_for_model([billing_dbt_models], "rpt_usage_forecast") in parents
    assert get_asset_key_for_model([billing_dbt_models], "fct_invoices") in parents
