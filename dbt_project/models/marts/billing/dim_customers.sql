{# A table of every customer, not per period: no partitions on Spark. #}
{{ config(materialized='table', partition_by=none) }}

-- Customers with the column names of customers.csv, for analysts and invoice rendering.
select
    customer_id,
    customer_name as name,
    email,
    currency,
    tax_rate,
    country,
    segment,
    address_line1,
    address_line2,
    city,
    region,
    postal_code
from {{ ref('stg_customers') }}
