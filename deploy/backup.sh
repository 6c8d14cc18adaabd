#!/usr/bin/env bash
# Back up the hotspot store named by $HOTSPOTS_STORE into $BACKUP_DIR (default /var/lib/hotspots/backups),
# keeping the newest $KEEP (default 12). Safe while the dashboard serves and while a load runs:
# - a DuckDB store is only ever replaced whole (a load writes a copy and renames it into place),
#   so copying the file always copies one committed state;
# - a PostgreSQL store is dumped with pg_dump (one consistent snapshot).
# Restore: DuckDB: copy the backup over the store file (stop loads first). PostgreSQL:
#   createdb NEW && pg_restore -d NEW backup.dump, then point HOTSPOTS_STORE at NEW.
set -euo pipefail
store="${HOTSPOTS_STORE:?set HOTSPOTS_STORE}"
dir="${BACKUP_DIR:-/var/lib/hotspots/backups}"
keep="${KEEP:-12}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dir"
case "$store" in
  postgresql://*|postgres://*)
    out="$dir/hotspots-$stamp.dump"
    pg_dump --format=custom --file="$out.tmp" "$store"
    ;;
  *)
    out="$dir/hotspots-$stamp.duckdb"
    cp --reflink=auto "$store" "$out.tmp"
    ;;
esac
mv "$out.tmp" "$out"
echo "backup: $out"
ls -1t "$dir"/hotspots-* | tail -n +"$((keep + 1))" | xargs -r rm --
