#!/usr/bin/env bash
# test.sh runs the whole ebwrk test suite: formatting, vet, the pure-Go build check,
# go test -race, every fuzz target for a bounded time, the simulator's determinism
# check and the check that reports/ reproduces. It installs libzmq3-dev (needed by
# transport/zmq and cmd/ebbroker) with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")"

FUZZTIME=${FUZZTIME:-15s}

step() { printf '\n== %s\n' "$*"; }

if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libzmq; then
	step "installing libzmq3-dev"
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libzmq3-dev pkg-config >/dev/null
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:"; echo "$unformatted"; exit 1
fi

step "go vet ./..."
go vet ./...

step "pure-Go build (CGO_ENABLED=0) of everything but transport/zmq and its importers"
# Only transport/zmq imports ZeroMQ; cmd/ebbroker, cmd/ebbench, the wire kit
# (conformance/wirekit) and cmd/ebconform use it for real sockets, so they need cgo too.
pure=$(go list ./... | grep -v -e /transport/zmq -e /cmd/ebbroker -e /cmd/ebbench -e /conformance/wirekit -e /cmd/ebconform -e /ebwrk/live)
CGO_ENABLED=0 go build $pure

step "go test -race ./..."
go test -race -count=1 ./...

if [ -d cmd/ebbench ]; then
	step "ebbench soak, 30 s: worker processes killed, stopped and restarted, one broker restart; fails on any loss"
	bin=$(mktemp -d)
	go build -o "$bin/" ./cmd/ebbroker ./cmd/ebbench
	status=0
	"$bin/ebbench" soak --duration 30s --workers 4 --broker-restarts 1 || status=$?
	rm -rf "$bin"
	if [ "$status" -ne 0 ]; then
		echo "ebbench soak failed (exit $status)"; exit 1
	fi
fi

step "fuzz targets, $FUZZTIME each"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "-- $pkg $target"
		# A short minimization: the default (60 s) spends the whole budget shrinking
		# the first new input that widens coverage, and mutates nothing meanwhile.
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s "$pkg"
	done
done

if [ -d cmd/ebsim ]; then
	step "ebsim determinism: the same scenario and seed twice give byte-identical output"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	go build -o "$tmp/ebsim" ./cmd/ebsim
	for name in $("$tmp/ebsim" list --names); do
		for run in a b; do
			if ! "$tmp/ebsim" run "$name" --seed 7 --json --trace "$tmp/$run.trace" >"$tmp/$run.json" 2>"$tmp/err"; then
				cat "$tmp/err" "$tmp/$run.json"; exit 1
			fi
		done
		cmp "$tmp/a.json" "$tmp/b.json"
		cmp "$tmp/a.trace" "$tmp/b.trace"
	done
	echo "deterministic: $("$tmp/ebsim" list --names | wc -l) scenarios"

	step "reports/ reproduces (ebsim report)"
	"$tmp/ebsim" report --out "$tmp/reports" >/dev/null
	# reports/conformance.md comes from ebconform wire --report and holds wall-clock
	# timings, so it is not compared; TestWireKit checks its verdicts. The same goes
	# for reports/fidelity.md and its plots (ebconform fidelity: live runs on the wall
	# clock); the live tests (go test ./live ./cmd/ebconform) require agreement on
	# short scenarios instead.
	diff -r -x conformance.md -x 'fidelity*' reports "$tmp/reports"
	echo "reports/ reproduced byte for byte"
fi

step "all checks passed"
