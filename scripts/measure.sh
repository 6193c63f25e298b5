#!/bin/bash
# measure.sh BIN OUTDIR: the measurements of docs/performance.md ("Targets and where they stand"),
# on an idle machine. Needs wrk, curl, psql and a PostgreSQL server on 127.0.0.1:55432 (user postgres);
# writes one file per run into OUTDIR and takes about ten minutes on two cores.
set -u
for need in wrk:wrk curl:curl psql:postgresql-client; do
  command -v ${need%%:*} >/dev/null || { echo "measure.sh: ${need%%:*} is needed (apt-get install -y ${need#*:})" >&2; exit 1; }
done
BIN=$1; OUT=$2; mkdir -p $OUT
PG='postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable'
uptime > $OUT/uptime-start
# wrkrun PORT PID FILE: wrk get and list as rep001 (the tool), then the server's peak memory
wrkrun() {
  local PORT=$1 PID=$2 F=$3
  TOK=$(curl -s -XPOST 127.0.0.1:$PORT/api/auth/login -H 'Content-Type: application/json' -d '{"username":"rep001","password":"bench-password"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
  ID=$(curl -s "127.0.0.1:$PORT/api/records/opportunity?limit=1" -H "Authorization: Bearer $TOK" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
  { echo "== wrk get"; wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $TOK" http://127.0.0.1:$PORT/api/records/opportunity/$ID
    echo "== wrk list"; wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/records/opportunity?limit=20&sort=-amount&filter=stage%20%3D%3D%20%22proposal%22"
    grep VmHWM /proc/$PID/status; } > $F 2>&1
}
# serve DB PORT LOG: start a server and wait until it answers; prints its pid
serve() {
  setsid $BIN serve --db $1 --addr 127.0.0.1:$2 > $3 2>&1 &
  local PID=$!
  until curl -sf 127.0.0.1:$2/api/health >/dev/null; do sleep 0.02; done
  echo $PID
}
# 1. SQLite 240k: load once, then two more runs on the loaded data set.
rm -f /tmp/f01.db*
$BIN bench --db /tmp/f01.db --scale 0.1 -n 300 > $OUT/sqlite-0.1-run1.txt 2>&1
for r in 2 3; do $BIN bench --db /tmp/f01.db --reuse -n 300 > $OUT/sqlite-0.1-run$r.txt 2>&1; done
# 2. HTTP at 240k on a copy (its first start adds the parts' tables and keys), two rounds each way
cp /tmp/f01.db /tmp/f01s.db; rm -f /tmp/f01s.db-*
for r in 1 2; do
  PID=$(serve /tmp/f01s.db 18700 $OUT/serve-$r.log)
  wrkrun 18700 $PID $OUT/wrk-0.1-run$r.txt
  $BIN load --url http://127.0.0.1:18700 --duration 10s --connections 16 --pid $PID > $OUT/http-0.1-run$r.txt 2>&1
  kill $PID; wait $PID 2>/dev/null
done
# 3. the lone and concurrent creates again, longer (a WAL checkpoint lands on one side at random)
for r in 1 2 3; do $BIN bench --db /tmp/f01.db --reuse -n 3000 --only create,create_bun,create_floor,create_self,create_x16 > $OUT/sqlite-0.1-create$r.txt 2>&1; done
# and each side in blocks of 100 creates (the steady state of each, without the other's wake)
for r in 1 2; do $BIN bench --db /tmp/f01.db --reuse -n 3000 --block 100 --only create > $OUT/sqlite-0.1-create-block$r.txt 2>&1; done
# 4. about 1,000 opportunities (list cost at small size)
rm -f /tmp/f0002.db*
$BIN bench --db /tmp/f0002.db --scale 0.002 --reps 1 -n 1000 > $OUT/sqlite-0.002.txt 2>&1
# 5. PostgreSQL 240k
psql "$PG" -qc 'DROP DATABASE IF EXISTS crm_final_bench' -c 'CREATE DATABASE crm_final_bench' >/dev/null 2>&1
$BIN bench --db "postgres://postgres@127.0.0.1:55432/crm_final_bench?sslmode=disable" --scale 0.1 -n 200 > $OUT/postgres-0.1.txt 2>&1
# 6. 1,000,000 records (scale 0.42): load, bench, start time, HTTP
rm -f /tmp/f1m.db*
$BIN bench --db /tmp/f1m.db --scale 0.42 -n 100 > $OUT/sqlite-0.42.txt 2>&1
for r in 1 2; do $BIN bench --db /tmp/f1m.db --reuse -n 1000 --only list,list_deep,count,report > $OUT/sqlite-0.42-reads$r.txt 2>&1; done
for r in 1 2 3 4; do
  T0=$(date +%s%N)
  PID=$(serve /tmp/f1m.db 18701 $OUT/serve-1m-$r.log)
  T1=$(date +%s%N); echo "start $(( (T1-T0)/1000000 )) ms" >> $OUT/start-1m.txt
  if [ $r = 2 ]; then
    wrkrun 18701 $PID $OUT/wrk-1m.txt
    $BIN load --url http://127.0.0.1:18701 --duration 10s --connections 16 --pid $PID > $OUT/http-1m.txt 2>&1
  fi
  kill $PID; wait $PID 2>/dev/null
done
uptime > $OUT/uptime-end
