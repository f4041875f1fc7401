"""The five gRPC services of elearn-data, one package each: api (gRPC edge) → service (rules) → store."""
