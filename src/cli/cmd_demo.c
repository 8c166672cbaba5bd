/* cmd_demo.c: `fusion demo`: the README's first command (see docs/demo.md). */
#include "cli/cli.h"

int cmd_demo(cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_usage("demo", "not implemented yet");
}
