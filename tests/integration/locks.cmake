# Integration tests that change shared testbed state (faults, drift, breaker, purge, FLUSHDB,
# migrations) take the `testbed` resource lock so read-only tests may run beside them.
# The up/down test uses its own --dir and ports, so it needs no lock and no fixture.
# A name whose test does not exist is skipped, so this list never breaks the configure step.
set(CUTOVER_LOCKED_TESTS
    # Reference gateway: faults, drift, breaker, cache purge, migration re-runs, or routes those
    # would disturb. test_gateway_delay only reads.
    integration.test_gateway_api integration.test_gateway_cache integration.test_gateway_breaker
    integration.test_gateway_faults integration.test_gateway_ratelimit
    integration.test_gateway_enrollments integration.test_gateway_migration
    integration.test_gateway_drift
    # Driver and measurements: stop nginx's worker, change the gateway's settings, purge.
    integration.test_driver_stall integration.test_metrics_breaker
    integration.test_metrics_query_reduction integration.test_metrics_cache
    integration.test_metrics_errors
    # Parity injects v2 drift (and resets it); the data test re-runs the migration with defects
    # and restores a clean one.
    integration.test_parity_drift integration.test_data_migration
    # The demo injects drift and faults; the shipped scenarios purge caches and set rate limits.
    integration.test_demo integration.test_scenarios)
foreach(t IN LISTS CUTOVER_LOCKED_TESTS)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK testbed)
  endif()
endforeach()
