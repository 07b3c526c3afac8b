/* server_stats.h - the servers' own view of a phase (issue: what cutover measures): Redis
 * `INFO stats` (keyspace hits and misses, commands processed) and PostgreSQL
 * `pg_stat_statements` calls plus `pg_stat_database` counters, sampled at the start and the
 * end of every load phase. From them: the Redis hit rate of the phase and the DB queries per
 * request, whose ratio between two phases is the query reduction of seed 004.
 *
 * The sampler uses the first redis and the first postgres endpoint of the scenario, with
 * their own blocking connections (short timeouts) on the coordinator's thread between
 * phases: never on a load path. Its own queries carry the comment `cutover:server-stats`
 * and are left out of the counts.
 *
 * pg_stat_statements counts at the end of each statement (exact); pg_stat_database is
 * flushed by other sessions at most once a second, so its deltas may lag by that much.
 *
 * Memory: the sampler owns its connections; srv_phase_json's result belongs to the caller. */
#ifndef CUTOVER_METRICS_SERVER_STATS_H
#define CUTOVER_METRICS_SERVER_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "util/err.h"

typedef struct srv_sample {
    bool redis_ok;
    uint64_t keyspace_hits, keyspace_misses, commands;
    bool pg_ok, has_statements;
    uint64_t calls; /* pg_stat_statements, this database, without cutover's own */
    uint64_t xact_commit, tup_returned, tup_fetched;
} srv_sample;

typedef struct srv_sampler srv_sampler;

/* Connects to what the scenario has (nothing to sample is not an error: *out is NULL). A server
 * that cannot be reached is an error (CUT_ECONNECT), as in the preflight. */
int srv_open(const scn_scenario *s, srv_sampler **out, cut_err *err);
void srv_close(srv_sampler *sm);

/* Takes one sample; failures leave the *_ok flags false. */
void srv_take(srv_sampler *sm, srv_sample *out);

/* {"redis": {endpoint, keyspace_hits, keyspace_misses, commands, hit_rate},
 *  "db": {endpoint, calls, queries_per_request, xact_commit, tup_returned, tup_fetched,
 *         statements: bool}} for the deltas between a and b over `requests` requests. */
json_t *srv_phase_json(const srv_sampler *sm, const srv_sample *a, const srv_sample *b,
                       uint64_t requests);

#endif
