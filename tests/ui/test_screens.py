"""Every screen by its number key and by its `:` command (with Tab completion): the
screen's title, its table headers and its honest empty state; q quits with status 0."""
import os
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402

# number, command, title, some column headers, the start of the empty state
SCREENS = [
    (1, "dashboard", "Dashboard", ["Asset", "Chain", "Balance", "Value USD", "Severity"],
     "No positions: no chain is configured on this desk"),
    (2, "escrows", "Escrows", ["Escrow", "Counterparty", "Amount", "State"],
     "No escrows: no chain is configured on this desk - see `fusion chain add`"),
    (3, "approvals", "Approvals", ["Escrow", "Action", "Payer -> payee"],
     "Nothing waits for your signature"),
    (4, "compliance", "Compliance", ["Case", "Prio", "Subject", "SLA", "Assignee"],
     "No cases: nothing has been screened yet"),
    (5, "entities", "Entities", ["Entity", "Jurisdiction", "KYC", "Addresses"],
     "No entities: no KYC/KYB records on this desk yet"),
    (6, "keys", "Keys", ["Key", "Address", "Created", "State"],
     "No keys: the key store of this desk is empty"),
    (7, "chains", "Chains", ["Chain", "Head", "Synced", "Lag", "Endpoint"],
     "No chains: none is configured on this desk"),
    (8, "audit", "Audit", ["Time (UTC)", "Operator", "Action", "Subject"],
     "The audit log is empty"),
]


def on_screen(t, num, title, headers, empty):
    def pred(text):
        lines = text.split("\n")
        if len(lines) < t.rows:
            return False
        status = lines[t.rows - 2]
        return (lines[2].startswith(" " + title) and status.startswith(" %d %s " % (num, title))
                and empty in text and all(h in text for h in headers))
    return pred


def main():
    t = tmuxh.Tmux("screens")
    t.start_fusion()
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.wait_for(on_screen(t, *SCREENS[0][:1], *SCREENS[0][2:]), "the Dashboard at start")

    for num, cmd, title, headers, empty in SCREENS:
        t.send(str(num))
        t.wait_for(on_screen(t, num, title, headers, empty), "screen %d (%s) by key" % (num, title))

    for num, cmd, title, headers, empty in reversed(SCREENS):
        t.send(":")
        t.wait_for(lambda s: s.split("\n")[t.rows - 1].startswith(":"), "the : prompt")
        t.type(cmd)
        t.send("Enter")
        t.wait_for(on_screen(t, num, title, headers, empty), "screen %d by :%s" % (num, cmd))

    # Tab completes a unique prefix and lists the candidates of an ambiguous one.
    t.send(":")
    t.type("compl")
    t.send("Tab")
    t.wait_for(lambda s: s.split("\n")[t.rows - 1].startswith(":compliance"), ":compl<Tab>")
    t.send("Enter")
    t.wait_for(on_screen(t, 4, *SCREENS[3][2:]), "Compliance after completion")
    t.send(":")
    t.type("es")
    t.send("Tab")
    t.wait_for(lambda s: "Tab: escrows escalate" in s and
               s.split("\n")[t.rows - 1].startswith(":esc"), "the candidates of :es")
    t.type("r")
    t.send("Tab", "Enter")
    t.wait_for(on_screen(t, 2, *SCREENS[1][2:]), "Escrows after :escr<Tab>")

    # Unknown commands and misplaced actions are one-line errors, not crashes.
    t.send(":")
    t.type("frobnicate")
    t.send("Enter")
    t.wait_for("unknown command ':frobnicate'", "the unknown-command message")
    t.send("a")
    t.wait_for("approve: select a row first", "the precondition message of approve")
    t.send("u")
    t.wait_for("u does nothing here; ? lists the keys", "the unbound-key message")
    t.send(":")
    t.type("unlock")
    t.send("Enter")
    t.wait_for(":unlock works on Keys", "the wrong-screen message")

    # Compliance queues switch with ] and [.
    t.send("4", "]")
    t.wait_for("queue Mine", "the Mine queue")
    t.send("[", "[")  # New, then wrapping to the last queue (Closed, the history)
    t.wait_for("queue Closed", "wrapping to the Closed queue")

    t.send("q")
    status = t.wait_dead()
    t.check(status == 0, "fusion exited with %d after q" % status)
    log = os.path.join(t.home, "fusion.log")
    t.check(os.path.exists(log), "no log file at %s" % log)
    with open(log) as f:
        text = f.read()
    t.check("[ui] started" in text and "[ui] stopped" in text, "the log lacks start/stop")


tmuxh.run(main)
