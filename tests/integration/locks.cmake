# Integration tests that change shared testbed state (faults, drift, breaker, purge, FLUSHDB,
# migrations) take the `testbed` resource lock so read-only tests may run beside them.
# The up/down test uses its own --dir and ports, so it needs no lock and no fixture.
# Reference gateway tests: they inject faults/drift, open the breaker, purge the nginx cache,
# re-run the migration, or read routes those faults would disturb. test_gateway_delay only reads.
set_tests_properties(integration.test_gateway_api integration.test_gateway_cache
                     integration.test_gateway_breaker integration.test_gateway_faults
                     integration.test_gateway_ratelimit integration.test_gateway_enrollments
                     integration.test_gateway_migration integration.test_gateway_drift
                     PROPERTIES RESOURCE_LOCK testbed)
set_tests_properties(integration.test_driver_stall PROPERTIES RESOURCE_LOCK testbed)
set_tests_properties(integration.test_metrics_breaker PROPERTIES RESOURCE_LOCK testbed)
set_tests_properties(integration.test_metrics_query_reduction PROPERTIES RESOURCE_LOCK testbed)
set_tests_properties(integration.test_metrics_cache PROPERTIES RESOURCE_LOCK testbed)
set_tests_properties(integration.test_metrics_errors PROPERTIES RESOURCE_LOCK testbed)
# Parity injects v2 drift (and resets it); the data test re-runs the migration with defects
# and restores a clean one.
set_tests_properties(integration.test_parity_drift integration.test_data_migration
                     PROPERTIES RESOURCE_LOCK testbed)
