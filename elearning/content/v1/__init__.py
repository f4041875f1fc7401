"""Generated gRPC stubs for the elearning protos: do not edit (run `make protos`)."""
