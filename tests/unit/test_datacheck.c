/* test_datacheck.c - data checks without servers: key <-> id, the two sides of a comparison
 * (field map, pointers, ignore, compare all/mapped, coercion of hash text), path -> field,
 * the SQL built from a section, and validation (every problem, with its pointer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verify/datacheck_int.h"

static char tmp_dir[] = "/tmp/cutover-dck-XXXXXX";

static int load(const char *checks, scn_scenario **s, scn_diags *d)
{
    char path[600];
    snprintf(path, sizeof path, "%s/s.json", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"endpoints\": {\"r\": {\"type\": \"redis\", \"url\": \"redis://127.0.0.1:3\"},"
            " \"db\": {\"type\": \"postgres\", \"dsn\": \"postgresql://u:pw@127.0.0.1:4/x\"}},"
            " \"steps\": {\"p\": {\"redis\": {\"endpoint\": \"r\", \"command\": [\"PING\"]}}},"
            " \"phases\": [{\"name\": \"n\", \"executor\": \"iterations\", \"steps\": [\"p\"]}],"
            " \"data_checks\": %s}",
            checks);
    fclose(f);
    scn_diags_init(d);
    return scn_load_file(path, s, d);
}

static bool has(const scn_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->lines[i], needle)) return true;
    return false;
}

static json_t *parse(const char *t)
{
    json_t *v = json_loads(t, 0, NULL);
    assert_non_null(v);
    return v;
}

static void compiled(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    dck_cfg cfg = {0};
    assert_int_equal(
        load("[{\"name\": \"docs\", \"redis\": {\"endpoint\": \"r\"}, \"postgres\": {\"endpoint\":"
             " \"db\", \"table\": \"public.documents\", \"where\": \"live\"}, \"key\": {\"redis\":"
             " \"doc:*{id}:v\", \"column\": \"id\"}, \"fields\": {\"filename\": "
             "\"original_filename\","
             " \"/meta/pages\": {\"column\": \"metadata\", \"pointer\": \"/pages\"}},"
             " \"ignore\": [\"content_type\", \"/meta/x\"]}]",
             &s, &d),
        0);
    assert_int_equal(dck__cfg_build(s, &cfg, &d), 0);
    const dck_check *c = &cfg.checks[0];
    /* The glob character in the prefix is escaped in the derived MATCH. */
    assert_string_equal(c->match, "doc:\\**:v");
    assert_int_equal(c->mode, DCK_SAMPLE);
    assert_int_equal(c->sample, 1000);
    assert_int_equal(c->batch, 250);
    assert_true(c->dedup && c->compare_all && !c->coerce);
    assert_string_equal(c->sql_rows, "SELECT t.\"id\"::text, t.* FROM \"public\".\"documents\" t"
                                     " WHERE (live) AND t.\"id\" = ANY($1)");
    assert_string_equal(c->sql_count,
                        "SELECT count(*) FROM \"public\".\"documents\" t WHERE (live)");

    size_t n = 0;
    const char *id = dck__key_id(c, "doc:*abc:v", 10, &n);
    assert_non_null(id);
    assert_int_equal(n, 3);
    assert_memory_equal(id, "abc", 3);
    assert_null(dck__key_id(c, "doc:*:v", 7, &n));        /* empty id */
    assert_null(dck__key_id(c, "doc:*ab\xff:v", 10, &n)); /* not UTF-8 */
    assert_null(dck__key_id(c, "doc:*abc:w", 10, &n));

    json_t *val = parse("{\"id\": \"1\", \"filename\": \"a.pdf\", \"content_type\": \"pdf\","
                        " \"size\": 5, \"meta\": {\"pages\": 3, \"x\": 1}}");
    json_t *row = parse("{\"id\": \"1\", \"original_filename\": \"b.pdf\", \"size\": 5,"
                        " \"metadata\": {\"pages\": 4, \"extra\": true}}");
    json_t *a = NULL, *b = NULL;
    assert_int_equal(dck__sides(c, val, row, &a, &b), 0);
    char *ta = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS),
         *tb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        ta,
        "{\"/meta/"
        "pages\":3,\"filename\":\"a.pdf\",\"id\":\"1\",\"meta\":{\"pages\":3,\"x\":1},\"size\":5}");
    assert_string_equal(tb, "{\"/meta/pages\":4,\"filename\":\"b.pdf\",\"id\":\"1\",\"size\":5}");
    free(ta);
    free(tb);
    char buf[64];
    assert_string_equal(dck__path_field("/~1meta~1pages", 14, buf, sizeof buf), "/meta/pages");
    assert_string_equal(dck__path_field("/meta/x", 7, buf, sizeof buf), "meta");
    json_decref(a);
    json_decref(b);
    json_decref(val);
    json_decref(row);
    dck__cfg_free(&cfg);
    scn_free(s);
    scn_diags_free(&d);
}

static void hash_coercion(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    dck_cfg cfg = {0};
    assert_int_equal(
        load("[{\"name\": \"s\", \"mode\": \"full\", \"redis\": {\"endpoint\": \"r\", \"type\": "
             "\"hash\"},"
             " \"postgres\": {\"endpoint\": \"db\", \"query\": \"SELECT * FROM s\"},"
             " \"key\": {\"redis\": \"session:{{id}}\", \"column\": \"id\"}, \"compare\": "
             "\"mapped\","
             " \"fields\": {\"n\": \"n\", \"ok\": \"ok\", \"m\": \"m\", \"f\": \"f\"}}]",
             &s, &d),
        0);
    assert_int_equal(dck__cfg_build(s, &cfg, &d), 0);
    const dck_check *c = &cfg.checks[0];
    assert_true(c->coerce && c->hash && !c->compare_all);
    assert_string_equal(c->match, "session:*");
    assert_string_equal(c->sql_first, "SELECT t.\"id\"::text, t.\"id\" FROM (SELECT * FROM s) t"
                                      " WHERE (true) ORDER BY t.\"id\" LIMIT $1::bigint");
    json_t *val =
        parse("{\"n\": \"7\", \"ok\": \"t\", \"m\": \"7\", \"f\": \"2.50\", \"other\": \"x\"}");
    json_t *row = parse("{\"n\": 7, \"ok\": true, \"m\": 8, \"f\": 2.5}");
    json_t *a = NULL, *b = NULL;
    assert_int_equal(dck__sides(c, val, row, &a, &b), 0);
    char *tb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(tb, "{\"f\":\"2.50\",\"m\":\"8\",\"n\":\"7\",\"ok\":\"t\"}");
    free(tb);
    json_decref(a);
    json_decref(b);
    json_decref(val);
    json_decref(row);
    dck__cfg_free(&cfg);
    scn_free(s);
    scn_diags_free(&d);
}

static void validation(void **state)
{
    (void)state;
    scn_scenario *s = NULL;
    scn_diags d;
    assert_int_equal(
        load("[{\"name\": \"a\", \"redis\": {\"endpoint\": \"db\", \"type\": \"list\"},"
             " \"postgres\": {\"endpoint\": \"db\", \"table\": \"t;x\", \"query\": \"q\"},"
             " \"key\": {\"redis\": \"k:{a}{b}\", \"column\": \"1d\"}, \"mode\": \"fast\","
             " \"fields\": {\"x\": 3}, \"colour\": 1},"
             " {\"name\": \"a\", \"redis\": {\"endpoint\": \"r\"}, \"postgres\": {\"endpoint\": "
             "\"db\","
             " \"table\": \"t\"}, \"key\": {\"redis\": \"k:{id}\", \"column\": \"id\"}, "
             "\"sample\": 0}]",
             &s, &d),
        0);
    assert_int_equal(dck_validate(s, &d), CUT_EINVAL);
    assert_true(has(&d, "/data_checks/0/redis/endpoint: endpoint \"db\" is not a redis endpoint"));
    assert_true(has(&d, "/data_checks/0/redis/type: must be \"json\" or \"hash\""));
    assert_true(has(&d, "/data_checks/0/postgres: give one of \"table\" or \"query\""));
    assert_true(has(&d, "/data_checks/0/key/column: must be a column name"));
    assert_true(has(&d, "/data_checks/0/key/redis: must hold exactly one"));
    assert_true(has(&d, "/data_checks/0/mode: must be \"count\", \"sample\" or \"full\""));
    assert_true(has(&d, "/data_checks/0/fields/x: must be a column name"));
    assert_true(has(&d, "/data_checks/0: unknown key \"colour\""));
    assert_true(has(&d, "/data_checks/1/name: \"a\" is already the name of /data_checks/0"));
    assert_true(has(&d, "/data_checks/1/sample: must be an integer 1..10000000"));
    assert_int_equal(d.count, 10);
    scn_free(s);
    scn_diags_free(&d);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compiled),
        cmocka_unit_test(hash_coercion),
        cmocka_unit_test(validation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
