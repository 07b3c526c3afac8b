#include "driver/drv.h"

const char *drv_kind_name(drv_kind kind)
{
    static const char *const names[DRV_KIND_COUNT] = {
        [DRV_OK] = "ok",
        [DRV_ECONNECT] = "connect",
        [DRV_ERESET] = "reset",
        [DRV_ETIMEOUT] = "timeout",
        [DRV_ETLS] = "tls",
        [DRV_EDNS] = "dns",
        [DRV_ESTATUS] = "status",
        [DRV_ECHECK] = "check",
        [DRV_EREDIS] = "redis",
        [DRV_ESQL] = "sql",
        [DRV_EABORTED] = "aborted",
        [DRV_EPROTO] = "proto",
    };
    if ((unsigned)kind >= DRV_KIND_COUNT) return "proto";
    return names[kind];
}
