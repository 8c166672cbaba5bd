/* ui.c: the terminal workstation's entry point (`fusion` with no subcommand).
 * For now a bare shell: title bar, the screen list, a status line; q quits.
 * Screens arrive with the desk services (see docs/architecture.md). */
#include <locale.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"

static void ui_draw(const cli_ctx *ctx)
{
    erase();
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows < 24 || cols < 80) {
        mvprintw(0, 0, "fusion needs at least 80x24 (this is %dx%d)", cols, rows);
        refresh();
        return;
    }
    attron(A_REVERSE);
    mvhline(0, 0, ' ', cols);
    mvprintw(0, 1, "Fusion Prime Workstation  desk %s  operator %s", ctx->home,
             ctx->operator_name ? ctx->operator_name : "-");
    attroff(A_REVERSE);
    mvprintw(2, 2, "No screens are available yet in this build.");
    attron(A_REVERSE);
    mvhline(rows - 1, 0, ' ', cols);
    mvprintw(rows - 1, 1, "q quit");
    attroff(A_REVERSE);
    refresh();
}

int cmd_ui(cli_ctx *ctx, int argc, char **argv)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "fusion: the workstation needs a terminal; use a subcommand in scripts "
                        "(see `fusion help`)\n");
        return EXIT_FAIL;
    }
    setlocale(LC_ALL, "");
    log_quiet(true);
    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    ui_draw(ctx);
    for (;;) {
        int ch = getch();
        if (ch == 'q' || ch == ERR)
            break;
        ui_draw(ctx);
    }
    endwin();
    log_quiet(false);
    return EXIT_OK;
}
