package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ebwrk/ebwrk/sim"
)

// newTable returns a table writing to w, as a terminal box or as Markdown.
func newTable(w io.Writer, markdown bool) *tablewriter.Table {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	return tablewriter.NewTable(w, opts...)
}

// counts formats a map of counters as "a 3, b 1", sorted by key; "0" when empty.
func counts(m map[string]uint64) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+" "+strconv.FormatUint(m[k], 10))
	}
	return strings.Join(parts, ", ")
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// dur formats a virtual duration exactly, in the unit that suits it.
func dur(d time.Duration) string { return d.String() }

func u(n uint64) string { return strconv.FormatUint(n, 10) }

// resultRows are the figure/value rows of one run's table.
func resultRows(res *sim.Result) [][]string {
	m := res.Metrics
	l := m.Latency
	rows := [][]string{
		{"requests", u(m.Requests)},
		{"successes", u(m.Successes)},
		{"failures", u(total(m.Failures)) + failureDetail(m.Failures)},
		{"hung (never ended)", u(m.Hung)},
		{"attempts / retries", u(m.Attempts) + " / " + u(m.Retries)},
		{"replies discarded", counts(m.Discarded)},
		{"requeues", u(m.Requeues)},
		{"workers purged (silent)", u(m.Purged)},
		{"workers removed", counts(m.Removed)},
		{"workers stuck busy at end", u(m.StuckBusy)},
		{"inputs dropped by broker", counts(m.Dropped)},
		{"messages", counts(m.Messages)},
		{"network", fmt.Sprintf("sent %d, delivered %d, lost %d, duplicated %d, delayed %d",
			m.Network.Sent, m.Network.Delivered, m.Network.Dropped, m.Network.Duplicated, m.Network.Delayed)},
		{"faults injected", counts(m.Faults)},
		{"latency p50 / p90 / p99", dur(l.P50) + " / " + dur(l.P90) + " / " + dur(l.P99)},
		{"latency p99.9 / max", dur(l.P999) + " / " + dur(l.Max)},
		{"throughput", strconv.FormatFloat(m.Throughput, 'f', 1, 64) + " replies/s (virtual)"},
		{"virtual time", dur(m.Virtual)},
		{"events", u(m.Events)},
		{"fingerprint", res.Fingerprint},
		{"guarantees", verdict(res)},
	}
	if res.Exact {
		rows = append(rows, []string{"exact latency (G8)", "checked on every uncontended request"})
	}
	return rows
}

func failureDetail(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	return " (" + counts(m) + ")"
}

func verdict(res *sim.Result) string {
	if res.OK() {
		return "all held"
	}
	return strconv.Itoa(len(res.Violations)) + " violations"
}

// writeResult prints one run: a title, its table and its violations.
func writeResult(w io.Writer, sc sim.Scenario, res *sim.Result, markdown bool) error {
	title := sc.Name + " (seed " + u(res.Seed) + ")"
	if markdown {
		fmt.Fprintf(w, "## %s\n\n%s\n\n", title, sc.Description)
	} else {
		fmt.Fprintf(w, "%s: %s\n", title, sc.Description)
	}
	t := newTable(w, markdown)
	t.Header("figure", "value")
	if err := t.Bulk(resultRows(res)); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	writeViolations(w, res.Violations)
	return nil
}

// writeViolations lists violations, at most 10, each with its replay command.
func writeViolations(w io.Writer, vs []sim.Violation) {
	for i, v := range vs {
		if i == 10 {
			fmt.Fprintf(w, "... and %d more violations\n", len(vs)-10)
			break
		}
		fmt.Fprintf(w, "VIOLATION %s\n", v.String())
	}
}

// summaryRow is one scenario's line in the summary table.
func summaryRow(res *sim.Result) []string {
	m := res.Metrics
	return []string{res.Scenario, u(m.Requests), u(m.Successes), u(total(m.Failures)), u(m.Retries),
		u(m.Requeues), u(m.Purged), dur(m.Latency.P50), dur(m.Latency.P99), dur(m.Latency.Max),
		u(m.Events), verdict(res), res.Fingerprint}
}

var summaryHeader = []string{"scenario", "requests", "ok", "failed", "retries", "requeues", "purged",
	"p50", "p99", "max", "events", "guarantees", "fingerprint"}

func writeSummary(w io.Writer, rows [][]string, markdown bool) error {
	t := newTable(w, markdown)
	t.Header(summaryHeader)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
