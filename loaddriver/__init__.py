"""The load driver: concurrent RPC insertions through the gateway, and their report."""
