"""PostgreSQL: shard pools and their routing, driver errors, transactions and retries, cross-shard commits,
replica monitoring. The only package that talks to psycopg2."""
