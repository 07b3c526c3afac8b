/* testbed_env.h - integration tests read the shared testbed's variables here.
 *
 * `harness/testbed up` writes $CUTOVER_TESTBED_DIR/env as `export NAME=value` lines
 * (../shared/SCENARIO.md section 5). tb_env_load() puts every variable into the process
 * environment, so tests and scenarios expanding ${CUTOVER_*} see the same values. */
#ifndef CUTOVER_TESTS_TESTBED_ENV_H
#define CUTOVER_TESTS_TESTBED_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0 when the env file was read, -1 (with a message on stderr) otherwise. */
static inline int tb_env_load(void)
{
    const char *dir = getenv("CUTOVER_TESTBED_DIR");
    char path[4096];
    char line[4096];
    FILE *f;

    if (!dir || !*dir) {
        fprintf(stderr, "CUTOVER_TESTBED_DIR is not set (run through ctest)\n");
        return -1;
    }
    snprintf(path, sizeof path, "%s/env", dir);
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open (is the testbed up?)\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line, *eq;
        size_t n = strcspn(p, "\r\n");
        p[n] = '\0';
        if (strncmp(p, "export ", 7) == 0) p += 7;
        eq = strchr(p, '=');
        if (!eq || *p == '#') continue;
        *eq = '\0';
        char *val = eq + 1;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '\'' || val[0] == '"') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        setenv(p, val, 1);
    }
    fclose(f);
    return 0;
}

/* The value of a testbed variable, or NULL (with a message) when it is missing. */
static inline const char *tb_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fprintf(stderr, "testbed variable %s is not set\n", name);
    return (v && *v) ? v : NULL;
}

#endif
