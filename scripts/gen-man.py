#!/usr/bin/env python3
"""Writes etcd-shepherd(8) from the argument parser's own description of the CLI.

Usage: etcd-shepherd --experimental-dump-help | scripts/gen-man.py VERSION > etcd-shepherd.8
Every subcommand, option, abstract and discussion (with its EXIT CODES) comes from the binary, so the page cannot
drift from the code; the FILES, ENVIRONMENT and SEE ALSO sections are the only text kept here.
"""
import datetime
import json
import sys


def esc(text):
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in text.split("\n"))


def synopsis(arg):
    names = arg.get("names") or []
    pref = arg.get("preferredName") or (names[0] if names else None)
    if arg["kind"] == "positional":
        s = "\\fI" + esc(arg.get("valueName", "value").upper()) + "\\fR"
    else:
        dash = "-" if pref["kind"] == "short" else "--"
        s = "\\fB" + esc(dash + pref["name"]) + "\\fR"
        if arg["kind"] == "option":
            s += " \\fI" + esc(arg.get("valueName", "value")) + "\\fR"
    return s


def options(cmd, out):
    args = [a for a in cmd.get("arguments", []) if a.get("shouldDisplay", True)]
    for a in args:
        out.append(".TP")
        names = a.get("names") or []
        if a["kind"] == "positional" or not names:
            out.append(synopsis(a))
        else:
            shown = []
            for n in names:
                dash = "-" if n["kind"] == "short" else "--"
                item = "\\fB" + esc(dash + n["name"]) + "\\fR"
                if a["kind"] == "option":
                    item += " \\fI" + esc(a.get("valueName", "value")) + "\\fR"
                shown.append(item)
            out.append(", ".join(shown))
        text = a.get("abstract", "")
        if a.get("defaultValue") not in (None, "", "false"):
            text += " (default: " + a["defaultValue"] + ")"
        out.append(esc(text))


def discussion(text, out):
    for para in text.split("\n\n"):
        out.append(".PP")
        if para.startswith("EXIT CODES"):
            out.append(".B EXIT CODES")
            for line in para.split("\n")[1:]:
                out.append(".br")
                out.append(esc(line.strip()))
        else:
            out.append(esc(para))


def main():
    version = sys.argv[1] if len(sys.argv) > 1 else "unknown"
    tool = json.load(sys.stdin)["command"]
    date = datetime.date.today().strftime("%B %Y")
    out = ['.TH ETCD\\-SHEPHERD 8 "%s" "etcd-shepherd %s" "System Administration"' % (date, esc(version)),
           ".SH NAME", "etcd\\-shepherd \\- " + esc(tool.get("abstract", "")),
           ".SH SYNOPSIS", ".B etcd\\-shepherd", "\\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR]",
           ".SH DESCRIPTION",
           esc("A supervisor daemon that runs beside every etcd member (etcd-shepherd run, as the etcd-shepherd systemd "
               "service) and, when an operator drops an upgrade request file, rolls the whole cluster to the new etcd version "
               "one member at a time, coordinated through a lock key in etcd itself. The other subcommands show, plan, "
               "request and steer rollouts."),
           ".SH COMMANDS"]
    for sub in tool.get("subcommands", []):
        if sub["commandName"] == "help":
            continue
        out.append(".SS etcd\\-shepherd " + esc(sub["commandName"]))
        out.append(esc(sub.get("abstract", "")))
        if sub.get("discussion"):
            discussion(sub["discussion"], out)
        options(sub, out)
    out += [".SH MAINTENANCE WINDOWS",
            esc("With maintenance.windows set in the config, a rollout may be requested at any time but no member is "
                "stopped outside a window, nor in one that closes before its sequence could end (verifyTimeoutSeconds + "
                "settleSeconds). A rollout spanning windows pauses between them by itself; status, plan, STATUS=, the "
                "journal and etcd_shepherd_next_window_seconds say which window it waits for. Example:"),
            ".PP", ".nf",
            esc('"maintenance": {"windows": [{"days": ["Tue", "Thu"], "start": "02:00", "duration": "3h", '
                '"timeZone": "Europe/Berlin"}]}'),
            ".fi", ".PP",
            esc("Zones are IANA names from the system's tzdata. A start skipped by a daylight-saving change opens at the end "
                "of the gap; a repeated one at its first occurrence; a window lasts its duration of elapsed time. Unknown "
                "zones, zero or too short durations and overlapping windows are refused at load."),
            ".SH FLEETLOCK",
            esc("With fleetLock.listen set (e.g. 127.0.0.1:9799), the daemon serves the FleetLock protocol for its own "
                "node: Zincati's POST /v1/pre-reboot gets 200 only when no rollout is under way, every member is healthy, "
                "one member down keeps quorum, nothing else is mid-upgrade or rebooting, and a maintenance window is open "
                "if windows are set. The reboot hold is written in etcd under the upgrade lock and blocks every upgrade "
                "stop and every other reboot until POST /v1/steady-state finds the member healthy again. Refusals are 409 "
                "with a JSON body {\"kind\": ..., \"value\": ...}. etcd-shepherd forget NODE --yes releases the hold of "
                "a node that never came back."),
            ".SH NOTIFICATIONS",
            esc("notify.command (an argv run with the event as JSON on stdin and ETCD_SHEPHERD_EVENT set) and "
                "notify.webhook (url, bearerTokenFile, timeoutSeconds, retries) are told of rollout_accepted, "
                "rollout_refused, member_started, member_done, member_rolling_back, member_rolled_back, halted, "
                "completed, lock_stuck, cluster_healthy, reboot_granted and reboot_released, each by the node that owns "
                "it, from a queue that never holds up the rollout."),
            ".SH FILES", ".TP", "\\fI/etc/etcd\\-shepherd/config.json\\fR",
            esc("The daemon's configuration (mode 0600); every subcommand reads it unless --config or ETCD_SHEPHERD_CONFIG names another."),
            ".TP", "\\fI/var/lib/etcd\\-shepherd/upgrade\\-request.json\\fR", esc("Where an upgrade request is dropped (etcd-shepherd request writes it)."),
            ".TP", "\\fI/var/lib/etcd\\-shepherd/backups/\\fR", esc("Snapshots taken before the first member stops (see etcd-shepherd backups)."),
            ".SH ENVIRONMENT", ".TP", ".B ETCD_SHEPHERD_CONFIG", esc("The config file when --config is not given."),
            ".SH SEE ALSO", "\\fBetcd\\fR(1), \\fBetcdctl\\fR(1), \\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1);",
            esc("/usr/share/doc/etcd-shepherd/README.md")]
    print("\n".join(out))


if __name__ == "__main__":
    main()
