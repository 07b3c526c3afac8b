/* The data subcommands: `seed` creates and fills the tables and keys the deployments and the
 * migration checks use; `migrate` copies Redis documents and analyses into PostgreSQL (seed 002),
 * optionally with known defects, and reports exactly which. */
#ifndef GW_MIGRATE_H
#define GW_MIGRATE_H

#include "gateway.h"

#include <stdint.h>

#define GW_UUID_LEN 37

/* PostgreSQL tables of the migration target, created by both subcommands. */
extern const char gw_ddl_migration[];

/* A UUID-shaped id that is a pure function of n, so data is the same on every run. */
void gw_uuid(uint64_t n, char out[GW_UUID_LEN]);
uint64_t gw_mix64(uint64_t x);

/* Both return 0, or -1 after printing the reason on stderr. */
int gw_seed(const struct gw_config *cfg);
int gw_migrate(const struct gw_config *cfg);

#endif
