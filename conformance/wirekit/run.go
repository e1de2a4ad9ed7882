package wirekit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// The results of a case.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Result is what one case showed.
type Result struct {
	Case    *Case
	Result  string // Pass, Fail or Skip
	Detail  string // what was seen
	Elapsed time.Duration
}

// Runner runs cases against a Target.
//
// Cases run Jobs at a time, each with peers and service names of its own, except
// Solo cases, which run afterwards one by one. When the broker dies (its process
// ends) or stops answering (a failed case is followed by a probe that gets no
// answer), the cases running at that moment are cancelled, the broker is restarted
// (a managed Target), and those cases run again alone: a case that still kills the
// broker then fails with "broker died" or "no answer", and the others get their
// own verdict. No case runs longer than its bound.
type Runner struct {
	Target   *Target
	Settings Settings
	// Jobs is how many cases run at once; below 1 means 1.
	Jobs int
	// OnResult, when set, is called with each final result as it comes.
	OnResult func(Result)

	rc       *zmq.RawContext
	mu       sync.Mutex // serializes restarts and OnResult
	serial   atomic.Int64
	Restarts int // how many times a dead or hung broker was restarted
}

// errBrokerDied cancels the cases running when the broker process ended.
type errBrokerDied struct{ status string }

func (e errBrokerDied) Error() string { return "broker died (" + e.status + ")" }

// Run runs cases and returns their results in the order given.
func (r *Runner) Run(ctx context.Context, cases []*Case) ([]Result, error) {
	rc, err := zmq.NewRawContext(8192)
	if err != nil {
		return nil, err
	}
	r.rc = rc
	defer func() { _ = rc.Close() }()

	results := make([]Result, len(cases))
	var solo []int
	var mu sync.Mutex
	var retry []int
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(r.Jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				res, again := r.runOne(ctx, cases[i], false)
				mu.Lock()
				if again {
					retry = append(retry, i)
				} else {
					results[i] = res
					r.report(res)
				}
				mu.Unlock()
			}
		}()
	}
	for i, c := range cases {
		if c.Solo {
			solo = append(solo, i)
			continue
		}
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	for _, i := range append(retry, solo...) {
		if ctx.Err() != nil {
			results[i] = Result{Case: cases[i], Result: Fail, Detail: "not run: " + ctx.Err().Error()}
			continue
		}
		results[i], _ = r.runOne(ctx, cases[i], true)
		r.report(results[i])
	}
	return results, ctx.Err()
}

func (r *Runner) report(res Result) {
	if r.OnResult != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.OnResult(res)
	}
}

// ensureUp restarts a broker that died; it reports why it could not.
func (r *Runner) ensureUp(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if died, _ := r.Target.Died(); died {
		r.Restarts++
		return r.Target.Restart(ctx)
	}
	if !r.Target.Managed() && !r.Target.Up() {
		return r.Target.WaitUp(ctx, 5*time.Second)
	}
	return nil
}

// runOne runs c once. again says that the broker died or stopped answering while
// c ran among others, so c must run again alone to tell whether it was the cause.
func (r *Runner) runOne(ctx context.Context, c *Case, solo bool) (res Result, again bool) {
	res = Result{Case: c}
	if err := r.ensureUp(ctx); err != nil {
		res.Result, res.Detail = Fail, "broker died: "+err.Error()
		return res, false
	}
	exited := r.Target.Exited()
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if exited != nil {
		go func() {
			select {
			case <-exited:
				_, why := r.Target.Died()
				cancel(errBrokerDied{why})
			case <-cctx.Done():
			}
		}()
	}
	start := time.Now()
	t := &T{ctx: cctx, deadline: start.Add(c.Timeout(r.Settings)), S: r.Settings,
		front: r.Target.Frontend, back: r.Target.Backend, rc: r.rc,
		tag: strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "-" + strconv.FormatInt(r.serial.Add(1), 36)}
	runScript(t, c)
	res.Elapsed = time.Since(start)
	var died errBrokerDied
	switch {
	case errors.As(context.Cause(cctx), &died):
		res.Result, res.Detail = Fail, died.Error()
		if t.detail != "" && !strings.Contains(t.detail, died.Error()) {
			res.Detail += ": " + t.detail
		}
		return res, !solo
	case t.skipped:
		res.Result, res.Detail = Skip, t.detail
	case t.failed:
		res.Result, res.Detail = Fail, t.detail
		if !r.probe(ctx) {
			res.Detail = "no answer: the broker answers no probe after: " + t.detail
			r.Target.KillIf(exited)
			return res, !solo
		}
	default:
		res.Result, res.Detail = Pass, strings.Join(t.seen, "; ")
	}
	return res, false
}

// runScript runs c's script on t and closes its peers, whatever happens.
func runScript(t *T, c *Case) {
	defer t.close()
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				t.failed = true
				t.detail = fmt.Sprintf("the case panicked: %v", v)
			}
		}
	}()
	c.Run(t)
}

// probe asks the broker something every MDP broker must answer (an mmi.service
// lookup on the frontend, a HEARTBEAT from an unknown worker on the backend) and
// reports whether either answer came within max(5 s, 3 intervals).
func (r *Runner) probe(ctx context.Context) bool {
	d := max(5*time.Second, 3*r.Settings.Heartbeat)
	t := &T{ctx: ctx, deadline: time.Now().Add(d + time.Second), S: r.Settings,
		front: r.Target.Frontend, back: r.Target.Backend, rc: r.rc}
	ok := false
	func() {
		defer t.close()
		defer func() {
			if v := recover(); v != nil {
				if _, isStop := v.(stop); !isStop {
					panic(v)
				}
			}
		}()
		c, w := t.Client(), t.Dial(false, zmq.RawDealer)
		c.Send(empty, mdpc, "mmi.service", "ebconform.probe")
		w.Beat()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if c.Recv(20*time.Millisecond) != nil || w.Recv(20*time.Millisecond) != nil {
				ok = true
				return
			}
		}
	}()
	return ok
}
