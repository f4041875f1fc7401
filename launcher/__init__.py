"""The `elearn` command and the embedded local cluster it boots: PostgreSQL shards with streaming
replicas, a MongoDB stand-in, the services and the gateway, each a process of its own."""
