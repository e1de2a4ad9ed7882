package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebwrk/ebwrk/internal/hdr"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// loadConfig is what the hidden client subcommand is told by its parent.
type loadConfig struct {
	id       string
	tag      string  // the prefix of every request body: unique among concurrent clients
	size     int     // bodies are padded to at least this many bytes (0: not padded)
	rate     float64 // open loop: requests per second, issued on a schedule (0: closed loop)
	endpoint string
	service  string
	requests uint64 // 0: until "stop"
	callers  int    // concurrent requests: goroutines on one Client, or the raw window
	raw      bool   // a RawPeer against a RawEcho instead of a Client through a broker
	client   zmq.ClientOptions
	warmup   int
	every    time.Duration // progress interval
	grace    time.Duration // added to Timeout × Attempts for the last requests to end
}

// bodyTag returns the prefix of the client's request bodies: its tag, or its id.
func (c *loadConfig) bodyTag() string {
	if c.tag == "" {
		return c.id
	}
	return c.tag
}

// maxErrorTexts bounds the distinct texts kept for lost requests.
const maxErrorTexts = 8

func parseClient(args []string) (loadConfig, error) {
	fs := flag.NewFlagSet("ebbench client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := loadConfig{}
	fs.StringVar(&c.id, "id", "c1", "name of this client")
	fs.StringVar(&c.tag, "tag", "", "prefix of every request body (default: the id)")
	fs.IntVar(&c.size, "size", 0, "pad request bodies to at least this many bytes")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: issue this many requests per second on a schedule, whatever the replies (0: closed loop, --callers at once)")
	fs.StringVar(&c.endpoint, "frontend", "", "broker frontend, or the raw echo with --raw")
	fs.StringVar(&c.service, "service", "echo", "service")
	fs.Uint64Var(&c.requests, "requests", 0, "requests in all; 0: until stop")
	fs.IntVar(&c.callers, "callers", 1, "concurrent requests")
	fs.BoolVar(&c.raw, "raw", false, "raw DEALER against a raw ROUTER echo")
	fs.DurationVar(&c.client.Timeout, "timeout", time.Second, "timeout of one attempt")
	fs.IntVar(&c.client.Attempts, "attempts", 3, "attempts per request")
	fs.BoolVar(&c.client.Standard, "standard", false, "plain MDP/0.1 client")
	fs.IntVar(&c.warmup, "warmup", 0, "requests before ready, not counted")
	fs.DurationVar(&c.every, "progress", 250*time.Millisecond, "progress interval")
	fs.DurationVar(&c.grace, "grace", 2*time.Second, "extra time for the last requests to end")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.endpoint == "":
		return c, errors.New("--frontend is required")
	case c.callers < 1 || c.client.Attempts < 1 || c.client.Timeout <= 0:
		return c, errors.New("--callers, --attempts and --timeout must be positive")
	case c.size < 0 || c.rate < 0:
		return c, errors.New("--size and --rate must not be negative")
	}
	if c.tag == "" {
		c.tag = c.id
	}
	return c, nil
}

// cmdClient is the hidden client subcommand: connect, warm up, say ready, wait for
// "go" on stdin, load, and write the result on stdout. "stop" or the end of stdin
// (the parent is gone) ends the load; the requests outstanding then get
// Timeout × Attempts + grace to end, and those that do not are lost.
func cmdClient(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) int {
	cfg, err := parseClient(args)
	if err != nil {
		log.Error("bad arguments", "err", err)
		return 2
	}
	out := &lineWriter{w: stdout}
	ctl := readControl(stdin)
	var l load
	if cfg.raw {
		l, err = newRawLoad(cfg)
	} else {
		l, err = newClientLoad(cfg)
	}
	if err != nil {
		log.Error("connect", "err", err)
		return 1
	}
	if err := l.warmup(ctx, cfg.warmup); err != nil {
		log.Error("warm-up failed", "err", err)
		return 1
	}
	out.write(report{Ready: true})
	select {
	case c, ok := <-ctl:
		if !ok || c != cmdGo {
			return 0
		}
	case <-ctx.Done():
		return 0
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctl: // "stop" or the end of stdin
		case <-ctx.Done():
		}
		close(stop)
	}()
	res := runLoad(cfg, l, stop, out)
	out.write(report{Result: res})
	return 0
}

// load is the part of a client that differs between brokered and raw.
type load interface {
	warmup(ctx context.Context, n int) error
	// run issues requests until the quota or stop, and records each outcome in acc.
	run(acc *account, stop <-chan struct{})
	retries() uint64
	close() error
}

// account counts outcomes from many goroutines.
type account struct {
	cfg        loadConfig
	next       atomic.Uint64 // the last sequence number given out
	ended      atomic.Uint64
	replies    atomic.Uint64
	mismatched atomic.Uint64
	mu         sync.Mutex
	failures   map[string]uint64
	errors     map[string]uint64
	lost       uint64
	mismatch   string
	lat        hdr.Histogram
	lastNs     atomic.Int64
}

// take returns the next sequence number, or false when the quota is spent.
func (a *account) take() (uint64, bool) {
	seq := a.next.Add(1)
	if a.cfg.requests > 0 && seq > a.cfg.requests {
		a.next.Add(^uint64(0))
		return 0, false
	}
	return seq, true
}

// body is request seq's body: the client's tag, "/", and seq with leading zeros up to
// cfg.size bytes in all. It is unique among the clients that run at once, so a reply
// that answers another request never passes for its own.
func (a *account) body(seq uint64) []byte {
	tag := a.cfg.bodyTag()
	b := make([]byte, 0, max(a.cfg.size, len(tag)+21))
	b = append(append(b, tag...), '/')
	digits := 1
	for v := seq; v >= 10; v /= 10 {
		digits++
	}
	for range a.cfg.size - len(b) - digits {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, seq, 10)
}

func (a *account) reply(want []byte, got [][]byte, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(got) == 1 && bytes.Equal(got[0], want) {
		a.replies.Add(1)
		a.lat.Record(int64(d))
	} else {
		a.mismatched.Add(1)
		if a.mismatch == "" {
			a.mismatch = fmt.Sprintf("request %q got reply %q", want, got)
		}
	}
	a.end()
}

// fail counts an error: typed (a *zmq.RequestError) by reason, anything else lost.
func (a *account) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var re *zmq.RequestError
	if errors.As(err, &re) {
		a.failures[re.Reason.String()]++
	} else {
		a.lostText(err.Error(), 1)
	}
	a.end()
}

func (a *account) lostText(text string, n uint64) {
	a.lost += n
	if _, ok := a.errors[text]; !ok && len(a.errors) >= maxErrorTexts {
		text = "(other errors)"
	}
	a.errors[text] += n
}

func (a *account) end() {
	a.ended.Add(1)
	a.lastNs.Store(time.Now().UnixNano())
}

// runLoad runs l until its quota or stop, writes progress meanwhile, and returns the
// account. Requests still outstanding Timeout × Attempts + grace after the load
// ended are counted lost ("never returned").
func runLoad(cfg loadConfig, l load, stop <-chan struct{}, out *lineWriter) *clientResult {
	acc := &account{cfg: cfg, failures: map[string]uint64{}, errors: map[string]uint64{}}
	start, cpu := time.Now(), selfCPU()
	done := make(chan struct{})
	go func() { l.run(acc, stop); close(done) }()
	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	var deadline <-chan time.Time
	stopped := stop
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			out.write(report{Progress: &progress{Issued: acc.next.Load(), Ended: acc.ended.Load()}})
		case <-stopped:
			stopped = nil
			deadline = time.After(time.Duration(cfg.client.Attempts)*cfg.client.Timeout + cfg.grace)
		case <-deadline:
			break loop
		}
	}
	res := &clientResult{ID: cfg.id, StartNs: start.UnixNano(), CPUNs: int64(selfCPU() - cpu)}
	acc.mu.Lock()
	defer acc.mu.Unlock()
	res.Requests = acc.next.Load()
	if ended := acc.ended.Load(); ended < res.Requests {
		acc.lostText("never returned", res.Requests-ended)
	}
	res.Replies, res.Mismatched, res.Lost = acc.replies.Load(), acc.mismatched.Load(), acc.lost
	res.Failures, res.Errors, res.Mismatch = maps.Clone(acc.failures), maps.Clone(acc.errors), acc.mismatch
	res.Latency = new(hdr.Histogram)
	res.Latency.Merge(&acc.lat)
	res.EndNs = max(acc.lastNs.Load(), res.StartNs)
	select {
	case <-done:
		res.Retries = l.retries()
		if err := l.close(); err != nil {
			res.CloseError = err.Error()
		}
	default: // calls still hang in the Client, which may not answer Stats: report and leave
	}
	return res
}

// clientLoad is a zmq.Client with cfg.callers goroutines on it.
type clientLoad struct {
	cfg loadConfig
	c   *zmq.Client
}

func newClientLoad(cfg loadConfig) (*clientLoad, error) {
	c, err := zmq.NewClient(cfg.endpoint, cfg.client)
	if err != nil {
		return nil, err
	}
	return &clientLoad{cfg: cfg, c: c}, nil
}

func (l *clientLoad) warmup(ctx context.Context, n int) error {
	for i := range n {
		body := []byte("warmup/" + strconv.Itoa(i))
		got, err := l.c.Request(ctx, l.cfg.service, body)
		if err != nil {
			return err
		}
		if len(got) != 1 || !bytes.Equal(got[0], body) {
			return fmt.Errorf("warm-up request %q got reply %q", body, got)
		}
	}
	return nil
}

func (l *clientLoad) run(acc *account, stop <-chan struct{}) {
	if l.cfg.rate > 0 {
		l.runOpen(acc, stop)
		return
	}
	var wg sync.WaitGroup
	var closed atomic.Bool // the Client ended: no request can succeed any more
	for range l.cfg.callers {
		wg.Go(func() {
			for !closed.Load() {
				select {
				case <-stop:
					return
				default:
				}
				seq, ok := acc.take()
				if !ok {
					return
				}
				if l.request(acc, seq) {
					closed.Store(true)
				}
			}
		})
	}
	wg.Wait()
}

// request sends request seq, waits for its outcome and accounts for it; it reports
// whether the Client has ended (no request can succeed any more).
func (l *clientLoad) request(acc *account, seq uint64) (closed bool) {
	body := acc.body(seq)
	t0 := time.Now()
	// The call's context never ends: a request must end by itself (DESIGN.md,
	// guarantee 2), and one that does not is lost.
	got, err := l.c.Request(context.Background(), l.cfg.service, body)
	if err != nil {
		acc.fail(err)
		return errors.Is(err, zmq.ErrClosed)
	}
	acc.reply(body, got, time.Since(t0))
	return false
}

func (l *clientLoad) retries() uint64 { return l.c.Stats().Retries }
func (l *clientLoad) close() error    { return l.c.Close() }

// lineWriter writes one JSON report a line, from any goroutine. A write error means
// the parent is gone; it is kept, and nothing more is written.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (o *lineWriter) write(r report) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a report is plain data and always encodes
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		_, o.err = o.w.Write(append(b, '\n'))
	}
}

// readControl returns the words read from r, one a line; it is closed at the end of r.
func readControl(r io.Reader) <-chan string {
	ch := make(chan string, 4)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}
