"""The payments service: payment methods, charges with their invoices, refunds and revenue reports, all on the
paying user's shard."""
