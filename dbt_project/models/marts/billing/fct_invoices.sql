{#
  Invoices as finance follows them: the register's frozen header with the
  lifecycle status of SPEC "Invoice lifecycle", read live from what happened
  after issue (a view, so a sync or a credit note shows at once):
    draft          recomputed on every run until the grace period ends;
    finalized      numbered and frozen, not yet delivered;
    sent           e-mailed to the customer, or open in Stripe;
    payment_failed Stripe's charge was declined (and nothing paid since);
    paid           Stripe reported the payment;
    void           credit notes cover the whole amount that was due.
  amount_due = total − credited − paid, never negative.
#}
{{ config(materialized='view', tags=['reporting']) }}

with

register as (
    select * from {{ ref('fct_invoice_register') }}
),

credit_notes as (
    select
        invoice_id,
        sum(amount) as amount_credited,
        max(case when voids_invoice then 1 else 0 end) = 1 as is_voided,
        max(issued_at) as credited_at
    from {{ source('finance', 'credit_notes') }}
    group by invoice_id
),

payments as (
    select
        invoice_number,
        sum(case when outcome = 'payment' then amount else 0 end) as amount_paid,
        max(case when outcome = 'payment' then occurred_at end) as paid_at,
        max(case when outcome = 'payment_failed' then occurred_at end) as payment_failed_at
    from {{ source('sync', 'payment_outcomes') }}
    group by invoice_number
),

deliveries as (
    select invoice_number, min(sent_at) as sent_at
    from (
        select invoice_number, sent_at
        from {{ source('sync', 'invoice_deliveries') }}
        union all
        select invoice_number, updated_at as sent_at
        from {{ source('sync', 'stripe_invoice_status') }}
        where status in ('open', 'paid')
    ) as delivered
    group by invoice_number
),

followed as (
    select
        register.*,
        cast(coalesce(credit_notes.amount_credited, 0) as {{ money_type() }}) as amount_credited,
        cast(coalesce(payments.amount_paid, 0) as {{ money_type() }}) as amount_paid,
        deliveries.sent_at,
        payments.paid_at,
        payments.payment_failed_at,
        credit_notes.credited_at,
        case
            when register.status = 'draft' then 'draft'
            when credit_notes.is_voided then 'void'
            when payments.paid_at is not null then 'paid'
            when payments.payment_failed_at is not null then 'payment_failed'
            when deliveries.sent_at is not null then 'sent'
            else 'finalized'
        end as lifecycle_status
    from register
    left join credit_notes
        on credit_notes.invoice_id = register.invoice_id
    left join payments
        on payments.invoice_number = register.invoice_number
    left join deliveries
        on deliveries.invoice_number = register.invoice_number
)

select
    invoice_id,
    invoice_number,
    invoice_sequence,
    customer_id,
    period_start,
    period_end,
    currency,
    subtotal,
    discount_total,
    credit_total,
    tax_total,
    total,
    line_count,
    lifecycle_status as status,
    issued_on,
    due_on,
    finalized_at,
    content_hash,
    amount_credited,
    amount_paid,
    cast(greatest(total - amount_credited - amount_paid, 0) as {{ money_type() }}) as amount_due,
    sent_at,
    paid_at,
    payment_failed_at,
    credited_at
from followed
