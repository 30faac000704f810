"""The `make demo` session: the exchange run end to end on a local chain."""
