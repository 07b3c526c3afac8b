/* cutover-gateway: the reference system under test. `serve` runs one deployment; `seed` and
 * `migrate` prepare the data the migration checks compare. */
#include "backend.h"
#include "http.h"
#include "migrate.h"

#include <stdio.h>
#include <string.h>

static int serve(struct gw *gw)
{
    int rc = 1;
    if (gw_breaker_new(&gw->breaker, "postgres", gw->cfg.breaker_threshold,
                       gw->cfg.breaker_timeout_s) < 0 ||
        gw_ratelimit_new(&gw->rl, gw->cfg.rl_per_minute, gw->cfg.rl_burst) < 0 ||
        gw_faults_new(&gw->faults) < 0 || gw_drift_new(&gw->drift) < 0) {
        fprintf(stderr, "cutover-gateway: out of memory\n");
        goto fail;
    }
    if (gw_backend_open(gw) < 0) goto fail;
    if (gw_serve(gw) < 0) goto fail;
    rc = 0;
fail:
    gw_backend_close(gw);
    gw_drift_free(gw->drift);
    gw_faults_free(gw->faults);
    gw_ratelimit_free(gw->rl);
    gw_breaker_free(gw->breaker);
    return rc;
}

int main(int argc, char **argv)
{
    static struct gw gw;
    const char *cmd = gw_config_parse(&gw.cfg, argc, argv);
    if (!cmd) return 2;
    if (strcmp(cmd, "help") == 0) return 0;
    if (strcmp(cmd, "seed") == 0) return gw_seed(&gw.cfg) < 0 ? 1 : 0;
    if (strcmp(cmd, "migrate") == 0) return gw_migrate(&gw.cfg) < 0 ? 1 : 0;
    return serve(&gw);
}
