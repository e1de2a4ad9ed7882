package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// newTable returns a terminal table writing to w.
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func msec(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// writeBenchTable prints the measurements, one row each, under a line that says
// what was measured.
func writeBenchTable(w io.Writer, ms []Measurement, s *stage) error {
	broker := "a running broker at " + s.frontend
	if s.broker != nil {
		broker = "ebbroker (" + s.brokerBin + ")"
	}
	client := "ebwrk Client"
	if s.cfg.standard {
		client = "standard MDP/0.1 Client"
	}
	worker := "transport/zmq Worker"
	if s.cfg.plain {
		worker = "plain MDP/0.1 DEALER"
	}
	size := 0
	if len(ms) > 0 {
		size = ms[0].BodyBytes
	}
	fmt.Fprintf(w, "ebbench: %s, %s, %s echo processes, 127.0.0.1 TCP, %d-byte bodies; latency in ms; open: half the peak of the pipelined row, offered on a schedule; cpu: broker + workers (raw: the echo) + clients, per reply\n",
		broker, client, worker, size)
	t := newTable(w)
	t.Header("measurement", "workers", "clients × callers", "requests", "lost", "wrong", "failed", "retries",
		"rate/s", "× raw", "p50", "p99", "p99.9", "max", "cpu µs/req b+w+c")
	for _, m := range ms {
		workers, ratio := "-", "1"
		if m.Name != "raw" {
			workers = strconv.Itoa(m.Workers)
			ratio = strconv.FormatFloat(m.VsRaw, 'f', 2, 64)
		}
		row := m.Name + " " + m.Mode
		if m.Mode == "open" {
			row += " @" + strconv.FormatFloat(m.OfferedPerS, 'f', 0, 64) + "/s"
			ratio = "-" // the rate was offered, not the most it could do
		}
		if err := t.Append([]string{row, workers, fmt.Sprintf("%d × %d", m.Clients, m.Callers),
			u(m.Requests), u(m.Lost), u(m.Mismatched), u(m.Failed), u(m.Retries),
			strconv.FormatFloat(m.RatePerS, 'f', 0, 64), ratio,
			msec(m.P50Ms), msec(m.P99Ms), msec(m.P999Ms), msec(m.MaxMs),
			fmt.Sprintf("%.0f+%.0f+%.0f", m.BrokerCPUUs, m.WorkerCPUUs, m.ClientCPUUs)}); err != nil {
			return err
		}
	}
	return t.Render()
}
