/* Unit tests for the scenario loader (src/scenario/load.c and friends). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario/scenario.h"

static char fixture_dir[1024];
static char tmp_dir[256];

static const char *fixture(const char *name)
{
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    return path;
}

static void set_env(void)
{
    setenv("CUTOVER_GATEWAY_URL", "http://127.0.0.1:18080/", 1);
    setenv("CUTOVER_V1_URL", "http://127.0.0.1:18081", 1);
    setenv("CUTOVER_V2_URL", "http://127.0.0.1:18082", 1);
    setenv("CUTOVER_REDIS_URL", "redis://:s3cretpw@127.0.0.1:16379/2", 1);
    setenv("CUTOVER_PG_DSN", "postgresql://cut:pgsecret@127.0.0.1:15432/cutover", 1);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("CUTOVER_SOURCE_DIR");
    snprintf(fixture_dir, sizeof fixture_dir, "%s/tests/unit/fixtures/scenario", src ? src : ".");
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/cutover-scn-XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    set_env();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to tmp_dir/name and returns the path. */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text (expected to fail) and returns the diagnostics. */
static int load_text(const char *text, scn_diags *d)
{
    scn_scenario *s = NULL;
    scn_diags_init(d);
    int rc = scn_load_file(write_tmp("t.json", text), &s, d);
    if (rc == 0) scn_free(s);
    return rc;
}

static bool has_diag(const scn_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->lines[i], needle)) return true;
    return false;
}

static void print_diags(const scn_diags *d)
{
    scn_diags_print(d, stderr);
}

/* A minimal valid scenario with one hole (%s) inside the phases array's first phase and
 * the rest given. */
#define BASE_HEAD                                                                                  \
    "{\"endpoints\": {\"gw\": {\"type\": \"http\", \"base_url\": \"http://127.0.0.1:1\"}},"        \
    " \"data\": {\"n\": {\"range\": [1, 3]}},"                                                     \
    " \"steps\": {\"s\": {\"http\": {\"endpoint\": \"gw\", \"url\": \"/x/{{n}}\"}}},"

static void test_section1_example(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    int rc = scn_load_file(fixture("herald.json"), &s, &d);
    if (rc) print_diags(&d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.count, 0);
    assert_non_null(s);
    assert_string_equal(s->name, "herald-v2-cutover");

    /* Endpoints: env expanded, defaults applied, URLs parsed, passwords redacted. */
    assert_int_equal(s->nendpoints, 5);
    const scn_endpoint *gw = scn_find_endpoint(s, "gw");
    assert_non_null(gw);
    assert_int_equal(gw->type, SCN_EP_HTTP);
    assert_string_equal(gw->u.http.base_url, "http://127.0.0.1:18080");
    assert_int_equal(gw->u.http.timeout_ns, INT64_C(5000000000));
    assert_int_equal(gw->u.http.connect_timeout_ns, INT64_C(5000000000));
    assert_int_equal(gw->u.http.max_connections, 64);
    assert_int_equal(gw->u.http.max_body, 1 << 20);
    assert_int_equal(gw->u.http.ncache_headers, 2);
    assert_string_equal(gw->u.http.cache_headers[1], "X-Cache");
    const scn_endpoint *v1 = scn_find_endpoint(s, "v1");
    assert_int_equal(v1->u.http.timeout_ns, INT64_C(10000000000));
    const scn_endpoint *cache = scn_find_endpoint(s, "cache");
    assert_int_equal(cache->type, SCN_EP_REDIS);
    assert_string_equal(cache->u.redis.host, "127.0.0.1");
    assert_int_equal(cache->u.redis.port, 16379);
    assert_int_equal(cache->u.redis.db, 2);
    assert_string_equal(cache->u.redis.password, "s3cretpw");
    assert_null(cache->u.redis.username);
    assert_int_equal(cache->u.redis.pool, 8);
    assert_string_equal(cache->u.redis.display, "redis://:***@127.0.0.1:16379/2");
    const scn_endpoint *db = scn_find_endpoint(s, "db");
    assert_int_equal(db->type, SCN_EP_POSTGRES);
    assert_int_equal(db->u.pg.pool, 8);
    assert_int_equal(db->u.pg.pipeline, 1);
    assert_string_equal(db->u.pg.display, "postgresql://cut:***@127.0.0.1:15432/cutover");
    assert_null(strstr(db->u.pg.display, "pgsecret"));

    /* Data sets and the variable table. */
    assert_int_equal(s->ndata, 3);
    const scn_data *agency = scn_find_data(s, "agency");
    assert_int_equal(agency->kind, SCN_DATA_RANGE);
    assert_int_equal(agency->rows, 20);
    const scn_data *report = scn_find_data(s, "report");
    assert_int_equal(report->rows, 3);
    const scn_data *doc = scn_find_data(s, "doc");
    assert_int_equal(doc->kind, SCN_DATA_CSV);
    assert_int_equal(doc->mode, SCN_MODE_RANDOM);
    assert_int_equal(doc->seed, 42);
    assert_int_equal(doc->rows, 3);
    assert_int_equal(doc->key_column, 0);
    assert_int_equal(s->nvars, 3 + 3);
    uint32_t v_title = scn_find_var(s, "doc.title");
    assert_int_not_equal(v_title, SCN_NONE);
    assert_int_equal(s->vars[v_title].set, doc->index);
    assert_int_equal(s->vars[v_title].column, 2);
    assert_int_equal(scn_find_var(s, "doc.nope"), SCN_NONE);

    /* Steps. */
    assert_int_equal(s->nsteps, 3);
    const scn_step *rep = scn_find_step(s, "report");
    assert_int_equal(rep->kind, SCN_STEP_HTTP);
    assert_int_equal(rep->endpoint, (uint32_t)(gw - s->endpoints));
    assert_int_equal(rep->timeout_ns, INT64_C(5000000000)); /* from the endpoint */
    assert_string_equal(rep->u.http.method, "GET");
    assert_false(rep->u.http.absolute);
    assert_false(rep->u.http.url.literal);
    assert_int_equal(rep->u.http.url.nsegs, 5);
    assert_int_equal(rep->u.http.nexpect, 1);
    assert_true(scn_status_expected(&rep->u.http, 200));
    assert_false(scn_status_expected(&rep->u.http, 304));
    assert_int_equal(rep->nsets, 2);
    assert_int_equal(rep->sets[0], agency->index);
    assert_int_equal(rep->sets[1], report->index);
    assert_int_equal(rep->u.http.nchecks, 1);
    const scn_check *chk = &rep->u.http.checks[0];
    assert_int_equal(chk->subject, SCN_CHECK_JSON);
    assert_string_equal(chk->target, "/info/report_name");
    assert_int_equal(chk->op, SCN_OP_EQUALS);
    assert_true(rep->u.http.needs_body);

    /* Expand the URL with a binding built from data rows. */
    scn_value binding[8] = {{0}};
    char scratch[SCN_SCRATCH];
    assert_int_equal(
        scn_data_value(agency, 19, SCN_KEY_COLUMN, scratch, &binding[scn_find_var(s, "agency")]),
        0);
    assert_int_equal(
        scn_data_value(report, 1, SCN_KEY_COLUMN, NULL, &binding[scn_find_var(s, "report")]), 0);
    char buf[256];
    size_t len = 0;
    assert_int_equal(scn_tpl_expand(&rep->u.http.url, binding, buf, sizeof buf, &len), 0);
    assert_string_equal(buf, "/api/v3/report/inventory/agency/100119?page=1&per_page=10");
    assert_int_equal(len, strlen(buf));
    assert_int_equal(scn_tpl_expand(&chk->value, binding, buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "inventory");

    const scn_step *get = scn_find_step(s, "doc_get");
    assert_int_equal(get->kind, SCN_STEP_REDIS);
    assert_int_equal(get->endpoint, (uint32_t)(cache - s->endpoints));
    assert_int_equal(get->u.redis.argc, 2);
    assert_true(get->u.redis.argv[0].literal);
    assert_string_equal(get->u.redis.argv[0].text, "GET");
    assert_int_equal(scn_data_value(doc, 2, SCN_KEY_COLUMN, NULL, &binding[scn_find_var(s, "doc")]),
                     0);
    assert_int_equal(scn_tpl_expand(&get->u.redis.argv[1], binding, buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "document:d-003");
    const scn_step *row = scn_find_step(s, "doc_row");
    assert_int_equal(row->kind, SCN_STEP_SQL);
    assert_int_equal(row->u.sql.nparams, 1);
    assert_string_equal(row->u.sql.query, "SELECT * FROM documents WHERE id = $1");

    /* Phases. */
    assert_int_equal(s->nphases, 4);
    const scn_phase *purge = &s->phases[0];
    assert_string_equal(purge->name, "purge");
    assert_int_equal(purge->executor, SCN_EXEC_ACTION);
    assert_non_null(purge->action);
    assert_string_equal(purge->action->u.http.method, "POST");
    assert_true(purge->action->u.http.url.literal);
    assert_string_equal(purge->action->u.http.url.text, "/admin/cache/purge");

    const scn_phase *cold = scn_find_phase(s, "cold");
    assert_int_equal(cold->executor, SCN_EXEC_ITERATIONS);
    assert_int_equal(cold->nover, 2);
    assert_int_equal(cold->over[0], report->index);
    assert_int_equal(cold->over[1], agency->index);
    assert_int_equal(cold->combinations, 60);
    assert_int_equal(cold->iterations, 1);
    assert_int_equal(cold->items, 60);
    assert_int_equal(cold->concurrency, 8);
    assert_false(cold->mix);
    assert_int_equal(cold->nsteps, 1);
    assert_int_equal(cold->steps[0].step, rep->index);
    assert_true(cold->record);
    uint64_t rows[2];
    scn_over_rows(s, cold, 21, rows); /* 21 = 1 * 20 + 1: report 1, agency 1 */
    assert_int_equal(rows[0], 1);
    assert_int_equal(rows[1], 1);
    scn_over_rows(s, cold, 59, rows);
    assert_int_equal(rows[0], 2);
    assert_int_equal(rows[1], 19);

    const scn_phase *warm = scn_find_phase(s, "warm");
    assert_int_equal(warm->executor, SCN_EXEC_CONSTANT_ARRIVAL_RATE);
    assert_true(warm->rate == 500.0);
    assert_int_equal(warm->duration_ns, INT64_C(30000000000));
    assert_int_equal(warm->max_in_flight, 256);
    assert_int_equal(warm->max_lag_ns, INT64_C(1000000000));
    assert_true(warm->mix);
    assert_int_equal(warm->nsteps, 3);
    assert_int_equal(warm->steps[0].weight, 8);
    assert_int_equal(warm->steps[1].weight, 1);
    assert_int_equal(warm->steps[1].step, get->index);
    assert_int_equal(warm->steps[2].step, row->index);
    assert_non_null(warm->pick);
    assert_int_equal(warm->nsets, 3);
    /* The alias table follows the weights: report about 80 % of picks. */
    sched_rng rng;
    sched_rng_seed(&rng, 1);
    size_t hits[3] = {0};
    for (int i = 0; i < 10000; i++)
        hits[sched_pick_next(warm->pick, &rng)]++;
    assert_in_range(hits[0], 7700, 8300);

    const scn_phase *soak = scn_find_phase(s, "soak");
    assert_int_equal(soak->executor, SCN_EXEC_RAMPING_VUS);
    assert_int_equal(soak->nvu_stages, 2);
    assert_int_equal(soak->vu_stages[0].to, 50);
    assert_int_equal(soak->vu_stages[1].duration_ns, INT64_C(10000000000));
    assert_int_equal(soak->duration_ns, INT64_C(40000000000));
    assert_int_equal(soak->think_time_ns, INT64_C(100000000));

    /* Later sections are kept as they are. */
    assert_true(json_is_object(s->breakers));
    assert_true(json_is_object(s->parity));
    assert_true(json_is_array(s->data_checks));
    assert_int_equal(json_object_size(s->targets), 7);
    assert_string_equal(json_string_value(json_object_get(s->targets, "errors.rate")), "< 1%");

    scn_free(s);
    scn_diags_free(&d);
}

static void test_three_mistakes(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    const char *path = fixture("three_mistakes.json");
    assert_int_equal(scn_load_file(path, &s, &d), CUT_EINVAL);
    assert_null(s);
    if (d.count != 3) print_diags(&d);
    assert_int_equal(d.count, 3);
    char want[4096];
    snprintf(want, sizeof want,
             "%s: /steps/report/http/url: unknown variable \"agncy\" (did you mean \"agency\"? "
             "known: agency, report)",
             path);
    assert_string_equal(d.lines[0], want);
    snprintf(want, sizeof want, "%s: /steps/key/redis/endpoint: ", path);
    assert_memory_equal(d.lines[1], want, strlen(want));
    assert_non_null(
        strstr(d.lines[1], "endpoint \"gw\" has type http; a redis step needs a redis endpoint"));
    snprintf(want, sizeof want, "%s: /phases/1/rate: must be > 0", path);
    assert_string_equal(d.lines[2], want);
    scn_diags_free(&d);
}

static void test_syntax_error(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    scn_diags_init(&d);
    const char *path = fixture("syntax_error.json");
    assert_int_equal(scn_load_file(path, &s, &d), CUT_ESYNTAX);
    assert_int_equal(d.count, 1);
    char want[4096];
    snprintf(want, sizeof want, "%s:7:", path); /* the missing comma is on line 7 */
    assert_memory_equal(d.lines[0], want, strlen(want));
    int col = atoi(d.lines[0] + strlen(want));
    assert_in_range(col, 18, 30);
    scn_diags_free(&d);

    /* Duplicate keys are syntax errors too. */
    assert_int_equal(load_text("{\"name\": \"a\",\n \"name\": \"b\"}", &d), CUT_ESYNTAX);
    assert_true(has_diag(&d, "t.json:2:"));
    assert_true(has_diag(&d, "duplicate"));
    scn_diags_free(&d);

    /* A missing file is an I/O error. */
    assert_int_equal(scn_load_file("/nonexistent/x.json", &s, &d), CUT_EIO);
    assert_true(has_diag(&d, "/nonexistent/x.json: cannot open"));
    scn_diags_free(&d);
}

static void test_env(void **state)
{
    (void)state;
    scn_diags d;
    unsetenv("CUTOVER_TEST_UNSET");
    setenv("CUTOVER_TEST_HOST", "127.0.0.1:9", 1);
    assert_int_equal(load_text(BASE_HEAD "\"phases\": [{\"name\": \"p\", \"action\": {\"http\": "
                                         "{\"url\": \"/${CUTOVER_TEST_UNSET}\"}}}]}",
                               &d),
                     CUT_EINVAL);
    assert_int_equal(d.count, 1);
    assert_true(has_diag(&d, "t.json: /phases/0/action/http/url: environment variable "
                             "CUTOVER_TEST_UNSET is not set"));
    scn_diags_free(&d);

    /* Set, defaulted and escaped references. */
    scn_scenario *s = NULL;
    scn_diags_init(&d);
    const char *path = write_tmp(
        "env.json",
        "{\"endpoints\": {\"gw\": {\"type\": \"http\", \"base_url\": "
        "\"http://${CUTOVER_TEST_HOST}\","
        " \"headers\": {\"X-A\": \"${CUTOVER_TEST_UNSET:-dflt}\", \"X-B\": \"$${HOME} and $5\"}}},"
        " \"phases\": [{\"name\": \"p\", \"action\": {\"http\": {\"url\": \"/\"}}}]}");
    int rc = scn_load_file(path, &s, &d);
    if (rc) print_diags(&d);
    assert_int_equal(rc, 0);
    const scn_http_endpoint *h = &s->endpoints[0].u.http;
    assert_string_equal(h->base_url, "http://127.0.0.1:9");
    assert_int_equal(h->nheaders, 2);
    assert_string_equal(h->headers[0].value.text, "dflt");
    assert_string_equal(h->headers[1].value.text, "${HOME} and $5");
    /* The only http endpoint is the default for steps without "endpoint". */
    assert_int_equal(s->phases[0].action->endpoint, 0);
    scn_free(s);
    scn_diags_free(&d);

    assert_int_equal(load_text(BASE_HEAD "\"phases\": [{\"name\": \"p\", \"action\": {\"http\": "
                                         "{\"url\": \"/${1BAD}\"}}}]}",
                               &d),
                     CUT_EINVAL);
    assert_true(has_diag(&d, "/phases/0/action/http/url: bad environment reference"));
    scn_diags_free(&d);
}

static void test_durations(void **state)
{
    (void)state;
    scn_diags d;
    assert_int_equal(load_text(BASE_HEAD
                               "\"phases\": [{\"name\": \"p\", \"executor\": "
                               "\"constant-vus\", \"vus\": 2, \"duration\": \"10 parsecs\","
                               " \"think_time\": 5, \"steps\": [\"s\"]}]}",
                               &d),
                     CUT_EINVAL);
    if (d.count != 2) print_diags(&d);
    assert_int_equal(d.count, 2);
    assert_true(has_diag(&d, "t.json: /phases/0/duration: "));
    assert_true(has_diag(&d, "t.json: /phases/0/think_time: must be a duration string"));
    scn_diags_free(&d);

    assert_int_equal(load_text(BASE_HEAD "\"phases\": [{\"name\": \"p\", \"executor\": "
                                         "\"ramping-arrival-rate\", \"stages\": [{\"target\": 10, "
                                         "\"duration\": \"5x\"}], \"steps\": [\"s\"]}]}",
                               &d),
                     CUT_EINVAL);
    assert_int_equal(d.count, 1);
    assert_true(has_diag(&d, "t.json: /phases/0/stages/0/duration: "));
    scn_diags_free(&d);
}

static void test_keys_and_names(void **state)
{
    (void)state;
    scn_diags d;
    assert_int_equal(load_text(BASE_HEAD "\"phases\": [{\"name\": \"p\", \"executor\": "
                                         "\"iterations\", \"iteratons\": 3, \"steps\": [\"t\"]},"
                                         " {\"name\": \"p\", \"executor\": \"constant-vus\","
                                         " \"vus\": 1, \"max_requests\": 10, \"steps\": [\"s\"]}],"
                                         " \"extra\": 1}",
                               &d),
                     CUT_EINVAL);
    if (d.count != 4) print_diags(&d);
    assert_int_equal(d.count, 4);
    assert_true(has_diag(&d, "t.json: /extra: unknown key \"extra\" (allowed: $schema, name,"));
    assert_true(has_diag(&d, "t.json: /phases/0/iteratons: unknown key \"iteratons\" (did you "
                             "mean \"iterations\"?"));
    assert_true(has_diag(&d, "t.json: /phases/0/steps/0: unknown step \"t\" (did you mean \"s\"? "
                             "known: s)"));
    assert_true(has_diag(&d, "t.json: /phases/1/name: duplicate phase name \"p\""));
    scn_diags_free(&d);
}

static void test_bounds_weights_empty(void **state)
{
    (void)state;
    scn_diags d;
    assert_int_equal(
        load_text(BASE_HEAD
                  "\"phases\": ["
                  "{\"name\": \"a\", \"executor\": \"constant-arrival-rate\", \"rate\": 5,"
                  " \"steps\": [\"s\"]},"
                  "{\"name\": \"b\", \"executor\": \"constant-vus\", \"vus\": 2, "
                  "\"duration\": \"1s\", \"steps\": [{\"step\": \"s\", \"weight\": 0}]},"
                  "{\"name\": \"c\", \"executor\": \"iterations\", \"steps\": []},"
                  "{\"name\": \"d\", \"executor\": \"ramping-vus\", \"stages\": [],"
                  " \"steps\": [\"s\"]},"
                  "{\"name\": \"e\", \"executor\": \"iteration\", \"steps\": [\"s\"]}]}",
                  &d),
        CUT_EINVAL);
    if (d.count != 5) print_diags(&d);
    assert_int_equal(d.count, 5);
    assert_true(has_diag(&d, "t.json: /phases/0: a constant-arrival-rate phase needs a bound"));
    assert_true(has_diag(&d, "t.json: /phases/1/steps/0/weight: must be > 0"));
    assert_true(has_diag(&d, "t.json: /phases/2/steps: must list at least one step"));
    assert_true(has_diag(&d, "t.json: /phases/3/stages: must list at least one stage"));
    assert_true(has_diag(&d, "t.json: /phases/4/executor: unknown executor \"iteration\" (did "
                             "you mean \"iterations\"?"));
    scn_diags_free(&d);

    assert_int_equal(load_text(BASE_HEAD "\"phases\": []}", &d), CUT_EINVAL);
    assert_true(has_diag(&d, "t.json: /phases: must list at least one phase"));
    scn_diags_free(&d);
}

static void test_steps_errors(void **state)
{
    (void)state;
    scn_diags d;
    assert_int_equal(
        load_text(
            "{\"endpoints\": {\"gw\": {\"type\": \"http\", \"base_url\": \"http://h\"},"
            " \"db\": {\"type\": \"postgres\", \"dsn\": \"host=h password='p w' dbname=x\"}},"
            " \"data\": {\"n\": {\"values\": [1, 2.5, \"x\"]}},"
            " \"steps\": {"
            "  \"q\": {\"sql\": {\"query\": \"SELECT $1, $3 -- $9\", \"params\": [\"{{n}}\"]}},"
            "  \"r\": {\"http\": {\"endpoint\": \"gx\", \"url\": \"x\","
            "   \"checks\": [{\"header\": \"X-Cache\", \"matches\": \"(\"},"
            "                {\"json\": \"/a\", \"equals\": 1, \"contains\": \"b\"}]}}},"
            " \"phases\": [{\"name\": \"p\", \"executor\": \"iterations\", \"steps\": "
            "[\"q\", \"r\"]}]}",
            &d),
        CUT_EINVAL);
    if (d.count != 5) print_diags(&d);
    assert_int_equal(d.count, 5);
    assert_true(has_diag(&d, "t.json: /steps/q/sql/params: the query uses 3 parameters ($1..$3) "
                             "but \"params\" lists 1"));
    assert_true(has_diag(&d, "t.json: /steps/r/http/endpoint: unknown endpoint \"gx\" (did you "
                             "mean \"gw\"?"));
    assert_true(has_diag(&d, "t.json: /steps/r/http/url: must be a path starting with \"/\""));
    assert_true(has_diag(&d, "t.json: /steps/r/http/checks/0/matches: bad regular expression"));
    assert_true(has_diag(&d, "t.json: /steps/r/http/checks/1: needs exactly one of equals"));
    scn_diags_free(&d);
}

static void test_secrets_never_shown(void **state)
{
    (void)state;
    scn_diags d;
    setenv("CUTOVER_TEST_SECRET_URL", "redis://:topsecret@127.0.0.1:99999/0", 1);
    setenv("CUTOVER_TEST_SECRET_DSN", "host=h password=topsecret2 bogus_option=1", 1);
    assert_int_equal(
        load_text(
            "{\"endpoints\": {\"c\": {\"type\": \"redis\", \"url\": "
            "\"${CUTOVER_TEST_SECRET_URL}\"}, \"d\": {\"type\": \"postgres\", \"dsn\": "
            "\"${CUTOVER_TEST_SECRET_DSN}\"}},"
            " \"phases\": [{\"name\": \"p\", \"action\": {\"redis\": {\"command\": [\"PING\"]}}}]}",
            &d),
        CUT_EINVAL);
    if (d.count != 2) print_diags(&d);
    assert_int_equal(d.count, 2);
    assert_true(has_diag(&d,
                         "t.json: /endpoints/c/url: bad Redis URL redis://:***@127.0.0.1:99999/0:"
                         " port must be 1-65535"));
    assert_true(has_diag(&d, "t.json: /endpoints/d/dsn: libpq cannot parse the connection string "
                             "host=h password=*** bogus_option=1"));
    assert_false(has_diag(&d, "topsecret"));
    scn_diags_free(&d);
}

static void test_csv_errors(void **state)
{
    (void)state;
    scn_diags d;
    write_tmp("bad.csv", "id,name\n1,a\n2,\"b\n3,c\n");
    assert_int_equal(
        load_text("{\"endpoints\": {}, \"data\": {\"x\": {\"csv\": \"bad.csv\"},"
                  " \"y\": {\"csv\": \"missing.csv\"}},"
                  " \"steps\": {\"s\": {\"redis\": {\"endpoint\": \"none\", "
                  "\"command\": [\"GET\", \"{{x.name}}{{y.id}}\"]}}},"
                  " \"phases\": [{\"name\": \"p\", \"action\": {\"sql\": {\"endpoint\":"
                  " \"none\", \"query\": \"select 1\"}}}]}",
                  &d),
        CUT_EINVAL);
    if (d.count != 4) print_diags(&d);
    assert_int_equal(d.count, 4);
    assert_true(has_diag(&d, "t.json: /data/x/csv: "));
    assert_true(has_diag(&d, "bad.csv: line 3: unterminated quoted field"));
    assert_true(has_diag(&d, "missing.csv: cannot open: "));
    assert_true(has_diag(&d, "t.json: /steps/s/redis/endpoint: unknown endpoint \"none\""));
    assert_true(has_diag(&d, "t.json: /phases/0/action/sql/endpoint: unknown endpoint \"none\""));
    scn_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_section1_example),
        cmocka_unit_test(test_three_mistakes),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_keys_and_names),
        cmocka_unit_test(test_bounds_weights_empty),
        cmocka_unit_test(test_steps_errors),
        cmocka_unit_test(test_secrets_never_shown),
        cmocka_unit_test(test_csv_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
