#include "cli/sections.h"

#include <stdio.h>
#include <string.h>

#include "verify/datacheck.h"
#include "verify/parity.h"

int cli_sections_load(const scn_scenario *s, cli_sections *out, scn_diags *d)
{
    memset(out, 0, sizeof *out);
    int bad = 0;
    if (brk_config_load(s, &out->breakers, d) < 0) bad = 1;
    if (par_validate(s, d) < 0) bad = 1;
    if (dck_validate(s, d) < 0) bad = 1;
    if (tgt_compile(s, &out->targets, d) < 0) bad = 1;
    if (bad) {
        cli_sections_free(out);
        return CUT_EINVAL;
    }
    return 0;
}

void cli_sections_free(cli_sections *c)
{
    brk_config_free(c->breakers);
    tgt_free(c->targets);
    memset(c, 0, sizeof *c);
}

int cli_load_scenario(const char *path, scn_scenario **s, cli_sections *sec)
{
    scn_diags d;
    scn_diags_init(&d);
    memset(sec, 0, sizeof *sec);
    int rc = scn_load_file(path, s, &d);
    if (rc == 0) {
        rc = cli_sections_load(*s, sec, &d);
        if (rc < 0) {
            scn_free(*s);
            *s = NULL;
        }
    }
    if (rc < 0) {
        scn_diags_print(&d, stderr);
        if (d.count == 0) fprintf(stderr, "%s: cannot be loaded\n", path);
    }
    scn_diags_free(&d);
    return rc;
}
