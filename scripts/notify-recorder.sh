#!/bin/sh
# notify.command for the notification tests: appends "EVENT <json from stdin>" to the file named by $1.
printf '%s %s\n' "$ETCD_SHEPHERD_EVENT" "$(cat)" >> "$1"
