"""The raw tables the loaders write and dbt reads as sources (schema `raw`).

This module is the single definition of their shape: loaders create them from
here, and `dbt_project/models/staging/_sources.yml` documents the same columns.
Timestamps are naive `TIMESTAMP` values in UTC; money and quantities are
`DECIMAL(38, 12)` so nothing is rounded before an invoice line is made.
"""

RAW_SCHEMA = "raw"

REFERENCE_TABLES: dict[str, str] = {
    "settings": """
        invoice_grace_days integer not null,
        payment_grace_days integer not null,
        invoice_prefix varchar not null,
        future_tolerance_minutes integer not null,
        company_name varchar not null
    """,
    "meters": """
        meter_id varchar not null,
        name varchar not null,
        unit varchar not null,
        event_type varchar not null,
        aggregation varchar not null,
        field varchar not null,
        property_name varchar
    """,
    "meter_filters": """
        meter_id varchar not null,
        property_name varchar not null,
        property_value varchar not null
    """,
    "plans": """
        plan_id varchar not null,
        plan_version integer not null,
        name varchar not null,
        effective_from date not null,
        currency varchar not null,
        base_fee decimal(38, 12) not null,
        seat_fee decimal(38, 12) not null,
        included_seats integer not null,
        trial_days integer not null,
        minimum_commitment decimal(38, 12) not null
    """,
    "plan_overrides": """
        customer_id varchar not null,
        plan_id varchar not null,
        base_fee decimal(38, 12),
        seat_fee decimal(38, 12),
        included_seats integer,
        trial_days integer,
        minimum_commitment decimal(38, 12)
    """,
    "plan_charges": """
        plan_id varchar not null,
        plan_version integer,
        customer_id varchar,
        meter_id varchar not null,
        charge_model varchar not null,
        unit_price decimal(38, 12),
        package_size decimal(38, 12),
        package_price decimal(38, 12),
        free_units decimal(38, 12),
        rate decimal(38, 12),
        fixed_fee decimal(38, 12)
    """,
    "charge_tiers": """
        plan_id varchar not null,
        plan_version integer,
        customer_id varchar,
        meter_id varchar not null,
        tier_index integer not null,
        lower_bound decimal(38, 12) not null,
        up_to decimal(38, 12),
        unit_price decimal(38, 12) not null,
        flat_fee decimal(38, 12) not null
    """,
    "customers": """
        customer_id varchar not null,
        name varchar not null,
        email varchar not null,
        currency varchar not null,
        tax_rate decimal(38, 12) not null,
        country varchar not null,
        segment varchar not null,
        address_line1 varchar,
        address_line2 varchar,
        city varchar,
        region varchar,
        postal_code varchar
    """,
    "subscriptions": """
        subscription_id varchar not null,
        customer_id varchar not null,
        plan_id varchar not null,
        started_at timestamp not null,
        ended_at timestamp,
        seats integer not null
    """,
    "credit_grants": """
        grant_id varchar not null,
        customer_id varchar not null,
        amount decimal(38, 12) not null,
        currency varchar not null,
        kind varchar not null,
        granted_at timestamp not null,
        expires_at timestamp
    """,
    "discounts": """
        discount_id varchar not null,
        customer_id varchar not null,
        kind varchar not null,
        value decimal(38, 12) not null,
        applies_to varchar not null,
        first_period date not null,
        cycles integer
    """,
    "usage_limits": """
        customer_id varchar not null,
        meter_id varchar not null,
        limit_quantity decimal(38, 12) not null
    """,
}

EVENT_TABLES: dict[str, str] = {
    "usage_events": """
        event_id varchar not null,
        customer_id varchar not null,
        event_type varchar not null,
        event_timestamp timestamp not null,
        quantity decimal(38, 12) not null,
        properties varchar not null,
        source_file varchar not null,
        source_line bigint not null,
        loaded_at timestamp not null,
        load_id bigint not null
    """,
    "duplicate_events": """
        event_id varchar not null,
        source_file varchar not null,
        source_line bigint not null,
        loaded_at timestamp not null
    """,
    "quarantined_events": """
        source_file varchar not null,
        source_line bigint not null,
        reason varchar not null,
        detail varchar not null,
        event_id varchar,
        raw_payload varchar not null,
        quarantined_at timestamp not null
    """,
    "landed_files": """
        file_name varchar not null,
        content_hash varchar not null,
        file_signature varchar,
        loaded_at timestamp not null,
        load_id bigint not null,
        row_count bigint not null,
        loaded_count bigint not null,
        duplicate_count bigint not null,
        quarantined_count bigint not null
    """,
}


# Finance's own records: written by commands, never replaced by a load.
FINANCE_TABLES: dict[str, str] = {
    "credit_notes": """
        credit_note_id varchar primary key,
        credit_note_sequence bigint not null unique,
        invoice_id varchar not null,
        invoice_number varchar not null,
        customer_id varchar not null,
        currency varchar not null,
        amount decimal(18, 2) not null check (amount > 0),
        voids_invoice boolean not null,
        reason varchar not null,
        issued_at timestamp not null
    """,
}


def create_table_sql(name: str, columns: str, *, replace: bool) -> str:
    verb = "create or replace table" if replace else "create table if not exists"
    return f"{verb} {RAW_SCHEMA}.{name} ({columns})"
