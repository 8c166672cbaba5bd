/* usage.c: the usage of every subcommand and action, one row each (CLI_ACTIONS). `fusion
 * help [CMD [ACTION]]`, `fusion CMD [ACTION] --help`, the list of actions in `fusion help`
 * and the bash completion (`fusion completion bash`) are all read from it, so they cannot
 * disagree; tests/cli/help_walk.py checks it against the commands' own dispatch and the
 * man page. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* X(command, action, usage): action "" is the command itself (no actions). */
#define CLI_ACTIONS(X)                                                                             \
    X("help", "", "fusion help [COMMAND [ACTION]]")                                                \
    X("version", "", "fusion version")                                                             \
    X("ui", "", "fusion ui   (also: fusion with no command)")                                      \
    X("chain", "add",                                                                              \
      "fusion chain add --name NAME --chain-id ID --rpc URL [--rpc URL ...] --factory ADDR\n"      \
      "         [--confirmations N] [--from-block N] [--native-symbol SYM]\n"                      \
      "         [--native-decimals N] [--explorer URL-WITH-{address}] [--json]")                    \
    X("chain", "add-factory", "fusion chain add-factory NAME --factory ADDR [--from-block N]")     \
    X("chain", "add-endpoint", "fusion chain add-endpoint NAME --rpc URL [--json]")                \
    X("chain", "list", "fusion chain list [--live] [--json|--csv]")                                \
    X("chain", "remove", "fusion chain remove NAME")                                               \
    X("sync", "",                                                                                  \
      "fusion sync [--once] [--chain NAME] [--poll-ms MS] [--window N] [--range N]\n"              \
      "         [--max-range N] [--range-logs N] [--rpc-timeout-ms MS] [--max-addresses N]\n"      \
      "         [--quiet] [--no-subscribe] [--swaps]   (with --passphrase-file and --yes: move\n"  \
      "         the swaps on) [--db postgresql://...]   (events, escrows, vault flows there)")     \
    X("escrow", "list", "fusion escrow list [--chain NAME] [--state STATE] [--json|--csv]")        \
    X("escrow", "show", "fusion escrow show ADDRESS [--chain NAME] [--json]")                      \
    X("escrow", "create",                                                                          \
      "fusion escrow create --payee ADDR|NAME --token SYM|ADDR --amount AMOUNT\n"                  \
      "         --approvers A[,B...] --threshold N --deadline 7d|UNIX|YYYY-MM-DDTHH:MM:SSZ\n"      \
      "         [--arbiter ADDR|OPERATOR] [--dispute-window 7d] [--chain NAME] [--wait SECS]\n"    \
      "         [--override REASON] [--json]")                                                                         \
    X("escrow", "fund",                                                                            \
      "fusion escrow fund ADDRESS [--chain NAME] [--wait SECS] [--override REASON] [--json]")    \
    X("escrow", "approve", "fusion escrow approve ADDRESS [--chain NAME] [--wait SECS] [--json]")  \
    X("escrow", "release",                                                                         \
      "fusion escrow release ADDRESS [--chain NAME] [--wait SECS] [--override REASON] [--json]") \
    X("escrow", "refund", "fusion escrow refund ADDRESS [--chain NAME] [--wait SECS] [--json]")    \
    X("escrow", "dispute",                                                                         \
      "fusion escrow dispute ADDRESS [--reason TEXT] [--chain NAME] [--wait SECS] [--json]")       \
    X("escrow", "resolve",                                                                         \
      "fusion escrow resolve ADDRESS --to payee|payer [--chain NAME] [--wait SECS] [--json]")      \
    X("escrow", "sweep",                                                                           \
      "fusion escrow sweep ADDRESS [--token SYM|ADDR] [--chain NAME] [--wait SECS] [--json]")      \
    X("escrow", "transfer-arbiter",                                                                \
      "fusion escrow transfer-arbiter ADDRESS --to ADDR [--chain NAME] [--wait SECS] [--json]")    \
    X("reindex", "", "fusion reindex [--chain NAME]")                                              \
    X("key", "new", "fusion key new [--label L] [--kdf interactive|moderate|sensitive]")           \
    X("key", "import",                                                                             \
      "fusion key import [--raw-file FILE | --keystore FILE] [--label L]\n"                        \
      "         [--new-passphrase-file FILE]")                                                     \
    X("key", "export", "fusion key export ADDRESS --out FILE")                                     \
    X("key", "list", "fusion key list [--json|--csv]")                                             \
    X("key", "passwd", "fusion key passwd ADDRESS [--new-passphrase-file FILE]")                   \
    X("key", "rm", "fusion key rm ADDRESS [--yes]")                                                \
    X("key", "sign-message", "fusion key sign-message ADDRESS MESSAGE")                            \
    X("audit", "list", "fusion audit list [--json|--csv]")                                         \
    X("audit", "verify", "fusion audit verify [--anchor SEQ:HASH] [--log-only] [--json]")          \
    X("audit", "export", "fusion audit export --out DIR   (the signed decisions as EIP-712 data)") \
    X("audit", "adopt", "fusion audit adopt   (record the head of a log older than desk.db's)")    \
    X("risk", "calc",                                                                              \
      "fusion risk calc --prices [ASSET=]FILE.csv [--prices ...] --positions FILE.json\n"          \
      "         [--window N] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--paths N] [--seed N]\n"       \
      "         [--threads N] [--drawn USD] [--margin-call HF] [--collateral FILE.csv]\n"          \
      "         [--stress] [--stress-lows] [--scenarios FILE.csv] [--json]")                       \
    X("risk", "report",                                                                            \
      "fusion risk report [--json] [--drawn USD] [--limits FILE.csv] [--account ADDR ...]\n"       \
      "         [--collateral FILE.csv] [--scenarios FILE.csv] [--prices-dir DIR] [--window N]\n"  \
      "         [--paths N] [--seed N] [--now UNIX]")                                              \
    X("risk", "set-drawn", "fusion risk set-drawn USD")                                            \
    X("alerts", "list", "fusion alerts list [--all] [--json|--csv]   (also: fusion alerts [--all])") \
    X("alerts", "ack", "fusion alerts ack ID [--json]")                                            \
    X("asset", "add-token",                                                                        \
      "fusion asset add-token --chain NAME|ID --symbol SYM --address ADDR [--decimals N]")         \
    X("asset", "add-feed",                                                                         \
      "fusion asset add-feed --chain NAME|ID --asset SYM --address ADDR [--max-age SECONDS]")      \
    X("asset", "list", "fusion asset list [--json]")                                               \
    X("operator", "genesis", "fusion operator genesis [--key ADDRESS] [--role ROLES]   (with --operator NAME)") \
    X("operator", "add", "fusion operator add NAME --key ADDRESS --role ROLE[,ROLE...]")           \
    X("operator", "roles", "fusion operator roles NAME --role ROLE[,ROLE...]")                     \
    X("operator", "remove", "fusion operator remove NAME   (an admin's decision; never the last admin)") \
    X("operator", "list", "fusion operator list [--json|--csv]")                                   \
    X("config", "sign", "fusion config sign policy|risk-limits|compliance|sanctions|prices|book [--file FILE]   (with --operator NAME)") \
    X("config", "status", "fusion config status [--json]")                                         \
    X("pay", "",                                                                                   \
      "fusion pay --to ADDR|NAME --token SYM|ADDR --amount AMOUNT [--chain NAME] [--wait SECS]\n" \
      "         [--json]")                                                                         \
    X("tx", "list", "fusion tx list [--json|--csv]")                                               \
    X("tx", "show", "fusion tx show ID|HASH [--json]")                                             \
    X("tx", "check", "fusion tx check [--chain NAME] [--wait SECS]")                               \
    X("tx", "speedup", "fusion tx speedup ID [--wait SECS]")                                       \
    X("tx", "cancel", "fusion tx cancel ID [--wait SECS]")                                         \
    X("devnet", "up", "fusion devnet up [--ports A,B,C,D]")                                        \
    X("devnet", "down", "fusion devnet down")                                                      \
    X("devnet", "status", "fusion devnet status [--json]")                                         \
    X("demo", "",                                                                                  \
      "fusion demo [--no-ui] [--duration N[s|m|h]] [--ports A,B,C,D] [--step-ms MS]\n"             \
      "         [--start YYYY-MM-DD] [--keep-devnet]")                                             \
    X("xswap", "new",                                                                              \
      "fusion xswap new --x CHAIN --y CHAIN --initiator ADDR --counterparty ADDR\n"                \
      "         --give AMOUNT[:SYMBOL] --get AMOUNT[:SYMBOL] [--t1 SECS] [--margin SECS]")         \
    X("xswap", "respond", "fusion xswap respond ID [--gap SECS]   (the counterparty locks on Y)")  \
    X("xswap", "resume", "fusion xswap resume [ID]   (continue every unfinished swap)")            \
    X("xswap", "list", "fusion xswap list [--json]")                                               \
    X("bridge", "quote",                                                                           \
      "fusion bridge quote --from CHAIN --to CHAIN --amount N [--asset SYM] [--route cctp|ccip]")  \
    X("bridge", "send",                                                                            \
      "fusion bridge send --from CHAIN --to CHAIN --amount N --recipient ADDR|OPERATOR\n"          \
      "         [--asset SYM] [--route cctp|ccip] [--no-wait] [--override REASON]")               \
    X("bridge", "resume", "fusion bridge resume [ID] [--no-wait]   (finish what is unfinished)")   \
    X("bridge", "list", "fusion bridge list [--json]")                                             \
    X("bridge", "show", "fusion bridge show ID [--json]")                                          \
    X("bridge", "config", "fusion bridge config --attestation-url URL")                            \
    X("bridge", "rebalance",                                                                       \
      "fusion bridge rebalance --target CHAIN=PCT,... [--asset USDC] [--execute]")                 \
    X("entity", "add",                                                                             \
      "fusion entity add NAME --type individual|company --jurisdiction CC [--kyc STATE]\n"         \
      "         [--kyc-expires YYYY-MM-DD] [--tier N] [--risk low|medium|high]\n"                  \
      "         [--review-due YYYY-MM-DD] [--doc NAME] [--party ADDR] [--json]")                   \
    X("entity", "edit",                                                                            \
      "fusion entity edit NAME [--rename NEW] [--type T] [--jurisdiction CC] [--kyc STATE]\n"      \
      "         [--kyc-expires YYYY-MM-DD] [--tier N] [--risk R] [--review-due YYYY-MM-DD]\n"      \
      "         [--doc NAME] [--party ADDR] [--json]")                                             \
    X("entity", "show", "fusion entity show NAME [--json]")                                        \
    X("entity", "list", "fusion entity list [--json|--csv]")                                       \
    X("entity", "link", "fusion entity link NAME --chain C --address ADDR")                        \
    X("entity", "import", "fusion entity import FILE.csv")                                         \
    X("entity", "travel",                                                                          \
      "fusion entity travel NAME [--street S] [--town T] [--postcode P] [--address-country CC]\n"   \
      "         [--national-id ID --national-id-type LEIX|CCPT|...] [--birth-date YYYY-MM-DD]\n"   \
      "         [--birth-place P]   (Travel Rule data, IVMS101)")                                \
    X("credit", "facility",                                                                        \
      "fusion credit facility add NAME --entity E --currency SYM [--decimals N] --limit AMOUNT\n"  \
      "         (--rate PCT | --base PCT --spread PCT) [--effective YYYY-MM-DD]\n"                 \
      "         [--day-count 360|365] [--billing-day N] [--initial-hf X] [--margin-call-hf X]\n"  \
      "         [--liquidation-hf X] [--collateral ASSET,...] [--terms ASSET=H/LT,...]\n"         \
      "         [--vault CHAIN=ADDRESS,...] [--repay-to DESK_ADDRESS]\n"                           \
      "       fusion credit facility edit NAME [the same options] [--rename NEW]\n"               \
      "       fusion credit facility show NAME [--json]\n"                                        \
      "       fusion credit facility list [--json]")                                              \
    X("credit", "draw",                                                                            \
      "fusion credit draw FACILITY AMOUNT --chain C [--to ADDR|NAME] [--memo TEXT]\n"             \
      "            [--override REASON] [--wait SECS]   (the desk pays it; posted once mined)\n"   \
      "       fusion credit draw FACILITY AMOUNT --by-hand [--date YYYY-MM-DD] [--memo TEXT]\n"   \
      "            [--override REASON]   (a draw paid outside the desk)")                          \
    X("credit", "repay", "fusion credit repay FACILITY AMOUNT [--date YYYY-MM-DD] [--memo TEXT]")  \
    X("credit", "fee", "fusion credit fee FACILITY AMOUNT [--date YYYY-MM-DD] [--memo TEXT]")      \
    X("credit", "ledger", "fusion credit ledger FACILITY [--asof YYYY-MM-DD] [--json]")            \
    X("credit", "statement",                                                                       \
      "fusion credit statement FACILITY --from YYYY-MM-DD --to YYYY-MM-DD [--csv|--json]")       \
    X("credit", "health", "fusion credit health FACILITY [--json]")                                \
    X("credit", "check", "fusion credit check [--json]   (margin calls, liquidation proposals)")   \
    X("credit", "calls", "fusion credit calls [--all] [--json]")                                   \
    X("credit", "seize",                                                                           \
      "fusion credit seize ID (--propose --to ADDR | --approve | --execute) [--wait SECS]")        \
    X("credit", "withdrawal",                                                                      \
      "fusion credit withdrawal FACILITY REQUEST_ID --chain C (--approve [--override REASON]\n"    \
      "         | --execute) [--wait SECS]")                                                      \
    X("case", "screen",                                                                            \
      "fusion case screen [--lists FILE] [--desk-list FILE] [--fatf FILE] [--prices DIR]\n"        \
      "         [--config FILE] [--follow]")                                                       \
    X("case", "list", "fusion case list [--queue new|mine|escalated|overdue] [--all] [--json|--csv]") \
    X("case", "show", "fusion case show ID [--json]")                                              \
    X("case", "take", "fusion case take ID")                                                       \
    X("case", "next", "fusion case next")                                                          \
    X("case", "note", "fusion case note ID TEXT")                                                  \
    X("case", "snooze", "fusion case snooze ID YYYY-MM-DD [--note TEXT]")                          \
    X("case", "escalate", "fusion case escalate ID [--note TEXT]")                                 \
    X("case", "clear", "fusion case clear ID [--note TEXT]")                                       \
    X("case", "block", "fusion case block ID [--note TEXT]")                                       \
    X("case", "report", "fusion case report ID [--note TEXT]")                                     \
    X("case", "export", "fusion case export ID|--from YYYY-MM-DD --to YYYY-MM-DD [--out FILE] [--json]") \
    X("case", "gate", "fusion case gate --chain C --escrow ADDR [--action ACTION]")                \
    X("case", "travel-rule", "fusion case travel-rule ESCROW|TXHASH [--chain C]   (IVMS101 JSON)") \
    X("case", "rules", "fusion case rules [--config FILE] [--sanctions off|on --reason TEXT]")     \
    X("lists", "import",                                                                           \
      "fusion lists import FILE --format sdn-csv|ofac-xml|fatf|plain [--name NAME]\n"               \
      "         [--published YYYY-MM-DD]")                                                         \
    X("lists", "list", "fusion lists list [--all] [--json]")                                       \
    X("backup", "",                                                                                \
      "fusion backup --out FILE [--passphrase-file FILE] [--kdf interactive|moderate|sensitive]\n" \
      "         [--force]")                                                                        \
    X("restore", "", "fusion restore FILE --home DIR [--passphrase-file FILE] [--no-chain-check]") \
    X("report", "daily",                                                                           \
      "fusion report daily [--date YYYY-MM-DD] [--out DIR] [--force] [--no-risk]")                 \
    X("serve", "",                                                                                 \
      "fusion serve [--socket PATH] [--tcp HOST:PORT (--tls-cert FILE --tls-key FILE |\n"          \
      "         --insecure-tcp)] [--no-socket] [--rate N] [--burst N] [--sync]\n"                   \
      "         [--risk-every SECONDS] [--feed-days DAYS] [--feed-keep N]")                         \
    X("api", "client",                                                                             \
      "fusion api client add NAME --scope read|propose [--json]\n"                                 \
      "       fusion api client list [--json]\n"                                                   \
      "       fusion api client revoke NAME   (add and revoke: an admin's signed decisions)")      \
    X("proposal", "list", "fusion proposal list [--all] [--json]")                                 \
    X("proposal", "show", "fusion proposal show ID")                                               \
    X("proposal", "accept", "fusion proposal accept ID [--json]")                                  \
    X("proposal", "reject", "fusion proposal reject ID --reason TEXT")                             \
    X("db", "migrate", "fusion db migrate --to postgresql://[USER@]HOST/DB [--json]")              \
    X("db", "upgrade", "fusion db upgrade [--db postgresql://[USER@]HOST/DB] [--json]")           \
    X("db", "status", "fusion db status [--json]   (where the book is: book.conf, or desk.db)")    \
    X("completion", "bash", "fusion completion bash   (eval \"$(fusion completion bash)\")")

static const cli_action rows[] = {
#define CLI_ACTION_ROW_(cmd, action, usage) {cmd, action, usage},
    CLI_ACTIONS(CLI_ACTION_ROW_)
#undef CLI_ACTION_ROW_
};

const cli_action *cli_actions(size_t *n)
{
    *n = sizeof rows / sizeof rows[0];
    return rows;
}

/* Prints the usage lines of cmd (every action, or only `action`); how many it printed. */
static size_t print_usage(FILE *out, const char *cmd, const char *action)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].cmd, cmd) != 0 || (action && strcmp(rows[i].action, action) != 0))
            continue;
        fprintf(out, "%s%s\n", n ? "       " : "usage: ", rows[i].usage);
        n++;
    }
    return n;
}

int cli_help_for(const char *cmd, const char *action)
{
    if (print_usage(stdout, cmd, action) > 0) {
        puts("Global options (before COMMAND): --home DIR, --operator NAME, "
             "--passphrase-file FILE, --json, --yes. See `man fusion`.");
        return EXIT_OK;
    }
    if (action && print_usage(stdout, cmd, NULL) > 0)
        return cli_usage(cmd, "no action '%s'", action);
    return cli_usage("help", "no command '%s'", cmd);
}

/* The long options named in a usage text, each once, space-separated, into out. */
static void options_of(char *out, size_t cap, const char *usage)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = strstr(usage, "--"); p; p = strstr(p + 2, "--")) {
        size_t k = 2;
        while (p[k] == '-' || (p[k] >= 'a' && p[k] <= 'z'))
            k++;
        if (k == 2)
            continue;
        char opt[48];
        snprintf(opt, sizeof opt, "%.*s", (int)k, p);
        char padded[52];
        snprintf(padded, sizeof padded, " %s ", opt);
        char have[2048];
        snprintf(have, sizeof have, " %s ", out);
        if (strstr(have, padded) || len + k + 2 >= cap)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", opt);
    }
}

int cli_completion_bash(void)
{
    size_t n = sizeof rows / sizeof rows[0];
    char opts[1024];
    puts("# bash completion for fusion, generated by `fusion completion bash` from the same\n"
         "# table as `fusion help`. Use: eval \"$(fusion completion bash)\"\n"
         "_fusion() {\n"
         "    local cur=${COMP_WORDS[COMP_CWORD]} i cmd= act= w words=\n"
         "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "        w=${COMP_WORDS[i]}\n"
         "        case $w in\n"
         "            --home|--operator|--passphrase-file) ((i++)); continue ;;\n"
         "            -*) continue ;;\n"
         "        esac\n"
         "        if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $act ]]; then act=$w; fi\n"
         "    done\n"
         "    case $cmd in");
    printf("        '') words='--home --operator --passphrase-file --json --yes --help");
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(rows[i].cmd, rows[i - 1].cmd) != 0)
            printf(" %s", rows[i].cmd);
    puts("' ;;");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(rows[j].cmd, rows[i].cmd) == 0)
            j++;
        if (!rows[i].action[0]) {
            options_of(opts, sizeof opts, rows[i].usage);
            printf("        %s) words='%s --help' ;;\n", rows[i].cmd, opts);
        } else {
            printf("        %s)\n            case $act in\n                '') words='", rows[i].cmd);
            for (size_t k = i; k < j; k++)
                printf("%s ", rows[k].action);
            puts("--help' ;;");
            for (size_t k = i; k < j; k++) {
                options_of(opts, sizeof opts, rows[k].usage);
                printf("                %s) words='%s --help' ;;\n", rows[k].action, opts);
            }
            puts("            esac ;;");
        }
        i = j;
    }
    puts("    esac\n"
         "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "}\n"
         "complete -F _fusion fusion");
    return EXIT_OK;
}
