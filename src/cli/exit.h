/* exit.h - the exit-code contract (README "Exit codes"). A pipeline gates on these. */
#ifndef CUTOVER_CLI_EXIT_H
#define CUTOVER_CLI_EXIT_H

enum {
    CUT_EXIT_OK = 0,        /* every target met */
    CUT_EXIT_MISSED = 1,    /* a target missed (also when the target died mid-run) */
    CUT_EXIT_USAGE = 2,     /* usage or scenario error; also a command not built yet */
    CUT_EXIT_PREFLIGHT = 3, /* the run could not start: endpoint unreachable, bad credentials,
                               failed setup action */
    CUT_EXIT_SIGINT = 130,  /* interrupted by SIGINT (report still written) */
    CUT_EXIT_SIGTERM = 143, /* interrupted by SIGTERM (report still written) */
};

#endif
