# Integration tests that change shared testbed state (faults, drift, breaker, purge, FLUSHDB,
# migrations) take the `testbed` resource lock so read-only tests may run beside them.
# The up/down test uses its own --dir and ports, so it needs no lock and no fixture.
