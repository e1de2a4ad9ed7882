#!/usr/bin/env bash
# ctxsw.sh BINDIR [CONCURRENCY] [SECONDS] counts what a credit request costs each process.
#
# It starts BINDIR/ebbroker, 4 echo workers (BINDIR/ebbench worker --concurrency
# CONCURRENCY, default 16) and 2 client processes (BINDIR/ebbench client) with 16
# callers each, all on 127.0.0.1 (ports PORT and PORT+1, default 7100), and over a
# window of SECONDS (default 5) of steady load prints the reply rate and, per reply,
# the voluntary context switches (/proc/PID/task/*/status) and the CPU time
# (/proc/PID/stat) of the broker, of the workers together and of the clients together.
# It is the harness the README's issue 13 section quotes; a comparison of two builds
# runs it on each, in turn, more than once.
set -u
if [ $# -lt 1 ] || [ ! -x "$1/ebbroker" ] || [ ! -x "$1/ebbench" ]; then
	echo "usage: $0 BINDIR [CONCURRENCY] [SECONDS]   (BINDIR holds ebbroker and ebbench)" >&2
	exit 2
fi
B=$1; CONC=${2:-16}; W=${3:-5}; PORT=${PORT:-7100}; CALLERS=${CALLERS:-16}
FE=tcp://127.0.0.1:$PORT; BE=tcp://127.0.0.1:$((PORT+1))
OUT=$(mktemp -d)
ctx() { local fs=; for p in "$@"; do fs="$fs /proc/$p/task/*/status"; done; awk '/^voluntary_ctxt_switches/{s+=$2} END{print s}' $fs; }
cpu() { local fs=; for p in "$@"; do fs="$fs /proc/$p/stat"; done; awk '{s+=$14+$15} END{print s}' $fs; }
ended() { local t=0 v; for f in "$OUT"/c1 "$OUT"/c2; do v=$(grep progress "$f" | tail -1 | sed 's/.*"ended":\([0-9]*\).*/\1/'); t=$((t+${v:-0})); done; echo $t; }
cleanup() { kill $WPIDS $BP 2>/dev/null; wait 2>/dev/null; rm -rf "$OUT"; }
"$B/ebbroker" --frontend $FE --backend $BE --log-level warn 2>/dev/null & BP=$!
WPIDS=
for i in 1 2 3 4; do
	# A worker ends at the end of its stdin: the sleep holds it open.
	sleep $((W+20)) | "$B/ebbench" worker --backend $BE --service echo --concurrency $CONC & WPIDS="$WPIDS $!"
done
trap cleanup EXIT
sleep 1
CPIDS=
for c in 1 2; do
	(sleep 0.5; echo go; sleep $((W+3)); echo stop; sleep 5) |
		"$B/ebbench" client --id c$c --frontend $FE --service echo --callers $CALLERS --progress 100ms --warmup 100 > "$OUT/c$c" &
	CPIDS="$CPIDS $!"
done
sleep 2
b0=$(ctx $BP); w0=$(ctx $WPIDS); c0=$(ctx $CPIDS); bc0=$(cpu $BP); wc0=$(cpu $WPIDS); cc0=$(cpu $CPIDS); e0=$(ended)
sleep "$W"
b1=$(ctx $BP); w1=$(ctx $WPIDS); c1=$(ctx $CPIDS); bc1=$(cpu $BP); wc1=$(cpu $WPIDS); cc1=$(cpu $CPIDS); e1=$(ended)
R=$((e1-e0))
if [ "$R" -le 0 ]; then echo "no replies in the window" >&2; exit 1; fi
tick=$(getconf CLK_TCK)
awk -v r=$R -v w="$W" -v t="$tick" -v c="$CONC" \
	-v b=$((b1-b0)) -v wk=$((w1-w0)) -v cl=$((c1-c0)) -v bc=$((bc1-bc0)) -v wc=$((wc1-wc0)) -v cc=$((cc1-cc0)) 'BEGIN {
	printf "concurrency %d: %d replies/s | context switches per reply: broker %.2f workers %.2f clients %.2f | CPU µs per reply: broker %.1f workers %.1f clients %.1f\n",
		c, r/w, b/r, wk/r, cl/r, bc*1e6/t/r, wc*1e6/t/r, cc*1e6/t/r }'
sleep 6
