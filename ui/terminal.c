/* terminal.c: curses start-up and tear-down, colour roles, glyphs, and signal handling.
 * Flag handlers only set a volatile sig_atomic_t and write a byte to a self-pipe so that
 * poll() wakes; the crash handler writes precomputed reset sequences, restores the saved
 * termios with tcsetattr (both async-signal-safe) and re-raises the signal. */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "base/log.h"

volatile sig_atomic_t ui_sig_winch;
volatile sig_atomic_t ui_sig_int;
volatile sig_atomic_t ui_sig_quit;

static volatile sig_atomic_t sig_pipe_w = -1;
static int sig_pipe_r = -1;
static const int flag_signals[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};
#define N_FLAG_SIGNALS (sizeof flag_signals / sizeof flag_signals[0])
static struct sigaction flag_old[N_FLAG_SIGNALS];
static bool flags_installed;

static const int crash_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
#define N_CRASH_SIGNALS (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction crash_old[N_CRASH_SIGNALS];
static bool crash_installed;
static char crash_seq[512];
static size_t crash_seq_len;
static char crash_msg[1024];
static size_t crash_msg_len;
static struct termios shell_tio;
static bool shell_tio_ok;
static volatile sig_atomic_t curses_up;
static bool alt_stack_ours;
static char alt_stack[64 * 1024];

static SCREEN *term_screen;
static bool term_utf8;
static bool term_color;
static attr_t role_attr[UI_ROLE_COUNT];

static const ui_glyphs glyphs_utf8 = {
    .h = "\u2500",
    .v = "\u2502",
    .tl = "\u250c",
    .tr = "\u2510",
    .bl = "\u2514",
    .br = "\u2518",
    .ellipsis = "\u2026",
    .spark = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"},
    .up = "\u25b2",
    .down = "\u25bc",
};
static const ui_glyphs glyphs_ascii = {
    .h = "-",
    .v = "|",
    .tl = "+",
    .tr = "+",
    .bl = "+",
    .br = "+",
    .ellipsis = "~",
    .spark = {"_", ".", ",", "-", "=", "+", "*", "#"},
    .up = "^",
    .down = "v",
};

static void on_flag_signal(int sig)
{
    int saved = errno;
    if (sig == SIGWINCH)
        ui_sig_winch = 1;
    else if (sig == SIGINT)
        ui_sig_int = 1;
    else
        ui_sig_quit = sig;
    if (sig_pipe_w >= 0) {
        char c = 0;
        ssize_t r = write(sig_pipe_w, &c, 1);
        (void)r;
    }
    errno = saved;
}

int ui_term_signals_install(err *e)
{
    if (flags_installed)
        return 0;
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return err_set(e, ERR_IO, "cannot create the signal pipe: %s", strerror(errno));
    sig_pipe_r = fds[0];
    sig_pipe_w = fds[1];
    ui_sig_winch = ui_sig_int = ui_sig_quit = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_flag_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FLAG_SIGNALS; i++)
        sigaddset(&sa.sa_mask, flag_signals[i]);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < N_FLAG_SIGNALS; i++)
        sigaction(flag_signals[i], &sa, &flag_old[i]);
    flags_installed = true;
    return 0;
}

void ui_term_signals_restore(void)
{
    if (!flags_installed)
        return;
    for (size_t i = 0; i < N_FLAG_SIGNALS; i++)
        sigaction(flag_signals[i], &flag_old[i], NULL);
    int w = sig_pipe_w;
    sig_pipe_w = -1;
    close(w);
    close(sig_pipe_r);
    sig_pipe_r = -1;
    flags_installed = false;
}

int ui_term_signal_fd(void)
{
    return sig_pipe_r;
}

void ui_term_signal_drain(void)
{
    char buf[64];
    while (read(sig_pipe_r, buf, sizeof buf) > 0)
        ;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void on_crash(int sig)
{
    if (curses_up) {
        curses_up = 0;
        write_all(STDOUT_FILENO, crash_seq, crash_seq_len);
        if (shell_tio_ok)
            tcsetattr(STDIN_FILENO, TCSANOW, &shell_tio);
        char head[64] = "\nfusion: crashed with signal ";
        size_t n = strlen(head);
        if (sig >= 10)
            head[n++] = (char)('0' + sig / 10);
        head[n++] = (char)('0' + sig % 10);
        write_all(STDERR_FILENO, head, n);
        write_all(STDERR_FILENO, crash_msg, crash_msg_len);
    }
    /* Hand the signal to whoever had it before (the default action, or a sanitizer). */
    for (size_t i = 0; i < N_CRASH_SIGNALS; i++) {
        if (crash_signals[i] != sig)
            continue;
        struct sigaction old = crash_old[i];
        if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN)
            old.sa_handler = SIG_DFL;
        sigaction(sig, &old, NULL);
    }
    raise(sig);
}

/* Appends a terminfo string capability without its padding specs ("$<5>"). */
static void crash_seq_add(const char *cap)
{
    const char *s = tigetstr(cap);
    if (!s || s == (const char *)-1)
        return;
    for (; *s; s++) {
        if (s[0] == '$' && s[1] == '<') {
            const char *end = strchr(s, '>');
            if (end) {
                s = end;
                continue;
            }
        }
        if (crash_seq_len + 1 < sizeof crash_seq)
            crash_seq[crash_seq_len++] = *s;
    }
}

static void crash_install(const char *note)
{
    crash_seq_len = 0;
    crash_seq_add("sgr0");
    crash_seq_add("cnorm");
    crash_seq_add("rmkx");
    crash_seq_add("rmcup");
    int n = snprintf(crash_msg, sizeof crash_msg, "; the terminal was restored%s%s\n",
                     note && *note ? "; " : "", note ? note : "");
    crash_msg_len = n < 0 ? 0 : ((size_t)n < sizeof crash_msg ? (size_t)n : sizeof crash_msg - 1);

    /* An alternate stack so that a stack overflow still reaches the handler; keep one
     * that is already there (a sanitizer's). */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
        alt_stack_ours = sigaltstack(&ss, NULL) == 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER | SA_ONSTACK;
    for (size_t i = 0; i < N_CRASH_SIGNALS; i++)
        sigaction(crash_signals[i], &sa, &crash_old[i]);
    crash_installed = true;
}

static void crash_uninstall(void)
{
    if (!crash_installed)
        return;
    for (size_t i = 0; i < N_CRASH_SIGNALS; i++)
        sigaction(crash_signals[i], &crash_old[i], NULL);
    crash_installed = false;
    if (alt_stack_ours) {
        stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
        sigaltstack(&ss, NULL);
        alt_stack_ours = false;
    }
}

static void roles_init(void)
{
    if (term_color) {
        short fg = COLOR_WHITE, bg = COLOR_BLACK;
        if (use_default_colors() == OK)
            fg = -1, bg = -1;
        init_pair(1, COLOR_WHITE, COLOR_BLUE);
        init_pair(2, COLOR_BLACK, COLOR_CYAN);
        init_pair(3, COLOR_RED, bg);
        init_pair(4, COLOR_GREEN, bg);
        init_pair(5, COLOR_CYAN, bg);
        init_pair(6, COLOR_YELLOW, bg);
        init_pair(7, fg, bg);
        role_attr[UI_ROLE_NORMAL] = COLOR_PAIR(7);
        role_attr[UI_ROLE_TITLE] = COLOR_PAIR(1) | A_BOLD;
        role_attr[UI_ROLE_TAB] = COLOR_PAIR(7);
        role_attr[UI_ROLE_TAB_CURRENT] = COLOR_PAIR(2) | A_BOLD;
        role_attr[UI_ROLE_STATUS] = COLOR_PAIR(2);
        role_attr[UI_ROLE_HEADER] = COLOR_PAIR(6) | A_BOLD;
        role_attr[UI_ROLE_SELECTED] = A_REVERSE;
        role_attr[UI_ROLE_ERROR] = COLOR_PAIR(3) | A_BOLD;
        role_attr[UI_ROLE_INFO] = COLOR_PAIR(4);
        role_attr[UI_ROLE_DIM] = COLOR_PAIR(5);
        role_attr[UI_ROLE_BORDER] = COLOR_PAIR(5);
    } else {
        /* Monochrome: reverse, bold and underline carry the same distinctions. */
        role_attr[UI_ROLE_NORMAL] = A_NORMAL;
        role_attr[UI_ROLE_TITLE] = A_REVERSE | A_BOLD;
        role_attr[UI_ROLE_TAB] = A_NORMAL;
        role_attr[UI_ROLE_TAB_CURRENT] = A_REVERSE | A_BOLD;
        role_attr[UI_ROLE_STATUS] = A_REVERSE;
        role_attr[UI_ROLE_HEADER] = A_BOLD | A_UNDERLINE;
        role_attr[UI_ROLE_SELECTED] = A_REVERSE;
        role_attr[UI_ROLE_ERROR] = A_BOLD;
        role_attr[UI_ROLE_INFO] = A_NORMAL;
        role_attr[UI_ROLE_DIM] = A_NORMAL;
        role_attr[UI_ROLE_BORDER] = A_NORMAL;
    }
}

int ui_term_open(const char *crash_note, err *e)
{
    if (curses_up)
        return 0;
    const char *codeset = nl_langinfo(CODESET);
    term_utf8 = codeset && strcmp(codeset, "UTF-8") == 0;
    shell_tio_ok = tcgetattr(STDIN_FILENO, &shell_tio) == 0;
    use_tioctl(TRUE);
    /* Look the terminal up first: newterm's own failure path leaks (ncurses 6.4). */
    int errret = 0;
    bool known = setupterm(NULL, STDOUT_FILENO, &errret) == OK;
    bool usable = true;
    if (known) {
        /* A known type that cannot address the cursor (dumb, a hardcopy or a generic
         * terminal) would draw garbage: refused with the same one line. */
        const char *cup = tigetstr("cup");
        usable = cup && cup != (const char *)-1 && tigetflag("hc") <= 0 && tigetflag("gn") <= 0;
        del_curterm(cur_term);
    }
    if (known && !usable) {
        const char *t = getenv("TERM");
        return err_set(e, ERR_INVALID,
                       "TERM=%s cannot move the cursor; set TERM=xterm-256color or similar",
                       t && *t ? t : "(unset)");
    }
    term_screen = known ? newterm(NULL, stdout, stdin) : NULL;
    if (!term_screen) {
        const char *t = getenv("TERM");
        return err_set(e, ERR_INVALID,
                       "cannot start the terminal UI on TERM=%s; set TERM to your terminal's "
                       "type (e.g. xterm-256color)",
                       t && *t ? t : "(unset)");
    }
    set_term(term_screen);
    curses_up = 1;
    crash_install(crash_note);
    cbreak();
    noecho();
    intrflush(stdscr, FALSE);
    leaveok(stdscr, TRUE);
    set_escdelay(25);
    mousemask(0, NULL); /* mouse is opt-in: a dropped session must not leave it on */
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    term_color = !(nc && nc[0]) && has_colors() && start_color() == OK;
    roles_init();
    LOG_I("ui", "terminal %s %dx%d, %s, %s", termname(), COLS, LINES, term_utf8 ? "UTF-8" : "ASCII",
          term_color ? "colour" : "monochrome");
    return 0;
}

void ui_term_close(void)
{
    if (!curses_up)
        return;
    curs_set(1);
    endwin();
    curses_up = 0;
    delscreen(term_screen);
    term_screen = NULL;
    crash_uninstall();
}

bool ui_term_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return false;
    if (ws.ws_row == LINES && ws.ws_col == COLS)
        return false;
    resizeterm(ws.ws_row, ws.ws_col);
    return true;
}

bool ui_term_utf8(void)
{
    return term_utf8;
}

bool ui_term_color(void)
{
    return term_color;
}

attr_t ui_attr(ui_role role)
{
    return role < UI_ROLE_COUNT ? role_attr[role] : A_NORMAL;
}

const ui_glyphs *ui_glyph(void)
{
    return term_utf8 ? &glyphs_utf8 : &glyphs_ascii;
}

void ui_put(WINDOW *w, int y, int x, const char *s, int width, ui_align align, ui_role role)
{
    char buf[4096];
    if (width <= 0)
        return;
    if (width > 1000)
        width = 1000;
    ui_text_fit(buf, sizeof buf, s, width, align, ui_glyph()->ellipsis);
    wattrset(w, ui_attr(role));
    mvwaddstr(w, y, x, buf);
    wattrset(w, A_NORMAL);
}

void ui_hline(WINDOW *w, int y, int x, int n, ui_role role)
{
    const char *h = ui_glyph()->h;
    wattrset(w, ui_attr(role));
    wmove(w, y, x);
    for (int i = 0; i < n; i++)
        waddstr(w, h);
    wattrset(w, A_NORMAL);
}

void ui_box(WINDOW *w, ui_role role)
{
    const ui_glyphs *g = ui_glyph();
    int rows, cols;
    getmaxyx(w, rows, cols);
    if (rows < 2 || cols < 2)
        return;
    wattrset(w, ui_attr(role));
    mvwaddstr(w, 0, 0, g->tl);
    for (int x = 1; x < cols - 1; x++)
        waddstr(w, g->h);
    waddstr(w, g->tr);
    for (int y = 1; y < rows - 1; y++) {
        mvwaddstr(w, y, 0, g->v);
        mvwaddstr(w, y, cols - 1, g->v);
    }
    mvwaddstr(w, rows - 1, 0, g->bl);
    for (int x = 1; x < cols - 1; x++)
        waddstr(w, g->h);
    waddstr(w, g->br);
    wattrset(w, A_NORMAL);
}

void ui_term_clipboard(const char *text)
{
    char clean[512];
    size_t n = 0;
    for (; text[n] && n < sizeof clean - 1; n++)
        clean[n] = text[n] >= 0x20 && text[n] < 0x7f ? text[n] : '?';
    clean[n] = '\0';
    char b64[sodium_base64_ENCODED_LEN(sizeof clean, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)clean, n,
                      sodium_base64_VARIANT_ORIGINAL);
    char seq[sizeof b64 + 16];
    int k = snprintf(seq, sizeof seq, "\033]52;c;%s\a", b64);
    /* between frames: curses has flushed its output, and OSC moves no cursor */
    fflush(stdout);
    if (k > 0 && write(STDOUT_FILENO, seq, (size_t)k) < 0)
        LOG_W("ui", "clipboard: %s", strerror(errno));
}
