{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_register'}}}) }}

-- Every invoice's total is the sum of its rounded lines, and its header adds up.
with lines as (
    select invoice_id, sum(amount) as lines_total, count(*) as line_count
    from {{ ref('fct_invoice_lines') }}
    group by invoice_id
)

select invoices.invoice_id, invoices.total, lines.lines_total
from {{ ref('fct_invoice_register') }} as invoices
left join lines
    on lines.invoice_id = invoices.invoice_id
where lines.lines_total is null
    or invoices.total <> lines.lines_total
    or invoices.line_count <> lines.line_count
    or invoices.total <> invoices.subtotal - invoices.discount_total - invoices.credit_total + invoices.tax_total
    or invoices.total < 0
