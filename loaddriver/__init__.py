"""The load driver: concurrent RPCs (inserts, and reads of what they made) through the gateway, and their report."""
