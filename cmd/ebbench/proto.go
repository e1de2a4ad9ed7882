package main

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ebwrk/ebwrk/internal/hdr"
)

// The parent drives its client processes through their stdin, one word a line, and
// they answer on their stdout, one JSON object (a report) a line.
const (
	cmdGo   = "go"   // start the load
	cmdStop = "stop" // issue no new request; finish the outstanding ones and report
)

// report is one line a client process writes on its stdout.
type report struct {
	Ready    bool          `json:"ready,omitempty"`    // connected and warmed up; waits for "go"
	Progress *progress     `json:"progress,omitempty"` // every progress interval while loading
	Result   *clientResult `json:"result,omitempty"`   // the last line
}

// progress is what a client process has done so far.
type progress struct {
	Issued uint64 `json:"issued"` // requests sent (Request calls started)
	Ended  uint64 `json:"ended"`  // of them, ended: a reply or an error
}

// clientResult is the account of one client process: every request it issued is in
// exactly one of Replies, Mismatched, Failures or Lost.
type clientResult struct {
	ID         string            `json:"id"`
	Requests   uint64            `json:"requests"`              // issued
	Replies    uint64            `json:"replies"`               // replies equal, byte for byte, to their request
	Mismatched uint64            `json:"mismatched"`            // replies that are not the echo of their request
	Failures   map[string]uint64 `json:"failures,omitempty"`    // typed failures (ErrTimeout, ErrRefused) by reason
	Lost       uint64            `json:"lost"`                  // untyped errors and calls that never returned
	Errors     map[string]uint64 `json:"errors,omitempty"`      // the lost requests by error text
	Retries    uint64            `json:"retries"`               // the Client's retries (Stats)
	StartNs    int64             `json:"start_ns"`              // the load began (Unix ns)
	EndNs      int64             `json:"end_ns"`                // the last request ended
	Latency    *hdr.Histogram    `json:"latency"`               // of the replies, in ns
	CPUNs      int64             `json:"cpu_ns"`                // CPU time of the client process during the load
	Mismatch   string            `json:"mismatch,omitempty"`    // the first mismatched reply, quoted
	CloseError string            `json:"close_error,omitempty"` // Client.Close's error, if any
	// CloseErrors gathers the CloseError of merged results, each with its client.
	CloseErrors []string `json:"close_errors,omitempty"`
}

// failed returns the number of typed failures.
func (r *clientResult) failed() uint64 { return sum(r.Failures) }

// add merges o into r.
func (r *clientResult) add(o *clientResult) {
	r.Requests += o.Requests
	r.Replies += o.Replies
	r.Mismatched += o.Mismatched
	r.Lost += o.Lost
	r.Retries += o.Retries
	r.CPUNs += o.CPUNs
	r.Failures = addCounts(r.Failures, o.Failures)
	r.Errors = addCounts(r.Errors, o.Errors)
	if o.StartNs != 0 && (r.StartNs == 0 || o.StartNs < r.StartNs) {
		r.StartNs = o.StartNs
	}
	r.EndNs = max(r.EndNs, o.EndNs)
	if r.Latency == nil {
		r.Latency = new(hdr.Histogram)
	}
	if o.Latency != nil {
		r.Latency.Merge(o.Latency)
	}
	if r.Mismatch == "" {
		r.Mismatch = o.Mismatch
	}
	if o.CloseError != "" {
		r.CloseErrors = append(r.CloseErrors, o.ID+": "+o.CloseError)
	}
}

func addCounts(dst, src map[string]uint64) map[string]uint64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]uint64{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// counts formats counters as "a 3, b 1", sorted by key; "0" when empty.
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
