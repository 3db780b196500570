{#
  Rule 7 and the "Credits" reading: each credit grant's balance in the period
  (grant × period: opening, applied, expired, closing), and what it pays of
  the customer's invoice.

  Grants are finance's (credit_grants.csv) and the credits carried forward
  when a finalized invoice's negative late-usage adjustments exceeded it
  (fct_late_usage_adjustments: kind carried_forward, never expiring, granted
  at that period's end so usable from the next one).

  Usable: granted_at < period_end and (expires_at is null or expires_at >
  period_start). Usable grants pay the invoice's post-discount subtotal
  (charge lines + discount lines, before tax), earliest expires_at first
  (never-expiring last), then earliest granted_at, then grant_id; a grant
  pays at most its balance and never more than is left to pay. The unused
  rest of a grant expiring during the period or at its end is expired here.

  Carry-over: a grant's opening balance is its amount (rounded to the
  currency's minor unit) minus everything applied in EARLIER periods, read
  from this table's own rows (`{{ this }}`, period_start < this period).
  A period's rows are replaced on every run (the run's period deleted, then
  inserted), so re-running a draft period never counts its own credits
  twice, and the sum over all earlier periods stays right when a period in
  between had no invoice. A grant is usable only until it expires, so an
  expired rest is never carried. Once the period is finalized its rows are frozen like its
  invoice lines: a later run keeps them (a grant added afterwards gets a row
  with nothing applied, since the finalized invoice cannot change).
#}
{{ config(full_refresh=false) }}

{% set columns = [
    'credit_balance_id', 'grant_id', 'customer_id', 'period_start', 'currency', 'grant_kind',
    'granted_at', 'expires_at', 'payment_rank', 'granted_amount', 'opening', 'applied', 'expired',
    'closing', 'is_finalized'
] %}

with

grants as (
    select grant_id, customer_id, amount, currency, grant_kind, granted_at, expires_at
    from {{ ref('stg_credit_grants') }}
    union all
    select
        adjustment_id as grant_id,
        customer_id,
        cast(amount as {{ exact_type() }}) as amount,
        currency,
        'carried_forward' as grant_kind,
        cast({{ dbt.dateadd('month', 1, 'period_start') }} as timestamp) as granted_at,
        cast(null as timestamp) as expires_at
    from {{ ref('fct_late_usage_adjustments') }}
    where adjustment_kind = 'credit_carried_forward'
        and is_finalized
        and period_start < {{ period_start_date() }}
),

adjustments as (
    select * from {{ ref('fct_late_usage_adjustments') }}
    where period_start = {{ period_start_date() }}
),

charges as (
    select * from {{ ref('int_invoice_charges_rounded') }}
),

discounts as (
    select * from {{ ref('int_invoice_discounts_applied') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

settings as (
    select * from {{ ref('stg_settings') }}
),

finalization as (
    select {{ period_is_finalized('invoice_grace_days') }} as is_finalized
    from settings
),

{% if is_incremental() %}
applied_earlier as (
    select
        grant_id,
        sum(applied) as applied_before
    from {{ this }}
    where period_start < {{ period_start_date() }}
    group by grant_id
),

frozen as (
    select {{ columns | join(', ') }}
    from {{ this }}
    where period_start = {{ period_start_date() }}
        and is_finalized
),
{% else %}
applied_earlier as (
    select grant_id, applied_before
    from (select cast(null as {{ dbt.type_string() }}) as grant_id, cast(null as {{ money_type() }}) as applied_before) as no_rows
    where 1 = 0
),

frozen as (
    select {{ columns | join(', ') }}
    from (select
        cast(null as {{ dbt.type_string() }}) as credit_balance_id,
        cast(null as {{ dbt.type_string() }}) as grant_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as period_start,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ dbt.type_string() }}) as grant_kind,
        cast(null as timestamp) as granted_at,
        cast(null as timestamp) as expires_at,
        cast(null as bigint) as payment_rank,
        cast(null as {{ money_type() }}) as granted_amount,
        cast(null as {{ money_type() }}) as opening,
        cast(null as {{ money_type() }}) as applied,
        cast(null as {{ money_type() }}) as expired,
        cast(null as {{ money_type() }}) as closing,
        cast(null as boolean) as is_finalized
    ) as no_rows
    where 1 = 0
),
{% endif %}

-- Once the period's credits are frozen, nothing more can be applied to its invoices.
period_state as (
    select case when count(*) > 0 then true else false end as is_frozen
    from frozen
),

-- What the credits may pay: the invoice's charges and adjustments after discounts, before tax.
payable as (
    select customer_id, sum(amount) as amount
    from (
        select customer_id, amount from charges
        union all
        select customer_id, amount from adjustments
        union all
        select customer_id, amount from discounts
    ) as pre_credit_lines
    group by customer_id
),

usable as (
    select
        grants.grant_id,
        grants.customer_id,
        grants.currency,
        grants.grant_kind,
        grants.granted_at,
        grants.expires_at,
        {{ round_money('grants.amount', 'currencies.minor_units') }} as granted_amount,
        cast(greatest(
            {{ round_money('grants.amount', 'currencies.minor_units') }} - coalesce(applied_earlier.applied_before, 0),
            0
        ) as {{ money_type() }}) as opening,
        row_number() over (
            partition by grants.customer_id
            order by
                case when grants.expires_at is null then 1 else 0 end,
                grants.expires_at,
                grants.granted_at,
                grants.grant_id
        ) as payment_rank
    from grants
    inner join currencies
        on currencies.currency = grants.currency
    left join applied_earlier
        on applied_earlier.grant_id = grants.grant_id
    left join frozen
        on frozen.grant_id = grants.grant_id
    where grants.granted_at < {{ period_end_ts() }}
        and (grants.expires_at is null or grants.expires_at > {{ period_start_ts() }})
        and frozen.grant_id is null
),

ranked as (
    select
        usable.*,
        case when period_state.is_frozen then cast(0 as {{ money_type() }}) else greatest(coalesce(payable.amount, 0), 0) end as payable_amount,
        coalesce(sum(usable.opening) over (
            partition by usable.customer_id
            order by usable.payment_rank
            rows between unbounded preceding and 1 preceding
        ), 0) as paid_by_earlier_grants
    from usable
    cross join period_state
    left join payable
        on payable.customer_id = usable.customer_id
),

applied as (
    select
        ranked.*,
        cast(least(
            ranked.opening,
            greatest(ranked.payable_amount - ranked.paid_by_earlier_grants, 0)
        ) as {{ money_type() }}) as applied
    from ranked
),

recomputed as (
    select
        concat(applied.grant_id, '@', '{{ var("period") }}') as credit_balance_id,
        applied.grant_id,
        applied.customer_id,
        {{ period_start_date() }} as period_start,
        applied.currency,
        applied.grant_kind,
        applied.granted_at,
        applied.expires_at,
        cast(applied.payment_rank as bigint) as payment_rank,
        applied.granted_amount,
        applied.opening,
        applied.applied,
        cast(
            case
                when applied.expires_at <= {{ period_end_ts() }} then applied.opening - applied.applied
                else 0
            end
        as {{ money_type() }}) as expired,
        cast(
            case
                when applied.expires_at <= {{ period_end_ts() }} then 0
                else applied.opening - applied.applied
            end
        as {{ money_type() }}) as closing,
        finalization.is_finalized
    from applied
    cross join finalization
)

select {{ columns | join(', ') }} from frozen
union all
select {{ columns | join(', ') }} from recomputed
