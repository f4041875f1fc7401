"""The gateway: the one public endpoint; it forwards each call, unchanged, to the backend that serves it."""
