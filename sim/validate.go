package sim

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// Validate checks the scenario (after defaults) and returns a *FieldError naming the
// first invalid field and why, or nil.
func (s Scenario) Validate() error {
	s = s.withDefaults()
	if s.Name == "" {
		return fieldErr("name", "must not be empty")
	}
	if s.Network.Latency < 0 {
		return fieldErr("network.latency", "must not be negative, got %v", s.Network.Latency)
	}
	if s.Network.Jitter < 0 {
		return fieldErr("network.jitter", "must not be negative, got %v", s.Network.Jitter)
	}
	if err := s.Broker.validate(); err != nil {
		return err
	}
	if err := s.Worker.validate(); err != nil {
		return err
	}
	if len(s.Services) == 0 {
		return fieldErr("service", "at least one [[service]] is needed")
	}
	seen := map[string]bool{}
	for i, sv := range s.Services {
		p := "service[" + strconv.Itoa(i) + "]"
		switch {
		case sv.Name == "":
			return fieldErr(p+".name", "must not be empty")
		case strings.HasPrefix(sv.Name, "mmi."):
			return fieldErr(p+".name", "%q: the mmi. namespace is reserved (RFC 8)", sv.Name)
		case seen[sv.Name]:
			return fieldErr(p+".name", "%q is defined twice", sv.Name)
		case sv.Workers < 0 || sv.Workers > 10000:
			return fieldErr(p+".workers", "must be in [0, 10000], got %d", sv.Workers)
		case sv.Credit < 0 || sv.Credit > core.MaxCredit:
			return fieldErr(p+".credit", "must be in [0, %d], got %d", core.MaxCredit, sv.Credit)
		}
		seen[sv.Name] = true
		if err := sv.Time.validate(p + ".time"); err != nil {
			return err
		}
	}
	if err := s.Clients.validate(); err != nil {
		return err
	}
	for i, name := range s.Clients.Services {
		if !seen[name] {
			return fieldErr("clients.services["+strconv.Itoa(i)+"]", "no [[service]] is named %q", name)
		}
	}
	return s.Faults.validate(s)
}

func (b BrokerSpec) validate() error {
	switch {
	case b.Heartbeat < 0:
		return fieldErr("broker.heartbeat", "must not be negative, got %v", b.Heartbeat)
	case b.Liveness < 0:
		return fieldErr("broker.liveness", "must not be negative, got %d", b.Liveness)
	case b.HoldLimit < 0:
		return fieldErr("broker.hold_limit", "must not be negative (0 turns the hold limit off), got %v", b.HoldLimit)
	case b.OnWorkerDeath != "requeue" && b.OnWorkerDeath != "fail":
		return fieldErr("broker.on_worker_death", "must be \"requeue\" or \"fail\", got %q", b.OnWorkerDeath)
	}
	return nil
}

func (w WorkerSpec) validate() error {
	switch {
	case w.Heartbeat < 0:
		return fieldErr("worker.heartbeat", "must not be negative, got %v", w.Heartbeat)
	case w.Liveness < 0:
		return fieldErr("worker.liveness", "must not be negative, got %d", w.Liveness)
	case w.ReconnectInitial < 0:
		return fieldErr("worker.reconnect_initial", "must not be negative, got %v", w.ReconnectInitial)
	case w.ReconnectMax < 0:
		return fieldErr("worker.reconnect_max", "must not be negative, got %v", w.ReconnectMax)
	}
	return nil
}

func (d Dist) validate(p string) error {
	switch d.Kind {
	case Constant:
		if d.Mean < 0 {
			return fieldErr(p+".mean", "must not be negative, got %v", d.Mean)
		}
	case Uniform:
		if d.Min < 0 || d.Max < d.Min {
			return fieldErr(p+".max", "uniform needs 0 ≤ min ≤ max, got min %v max %v", d.Min, d.Max)
		}
	case Exponential:
		if d.Mean <= 0 {
			return fieldErr(p+".mean", "exponential needs a positive mean, got %v", d.Mean)
		}
	case LogNormal:
		if d.Mean <= 0 {
			return fieldErr(p+".mean", "lognormal needs a positive mean, got %v", d.Mean)
		}
		if d.Sigma <= 0 || d.Sigma > 5 {
			return fieldErr(p+".sigma", "lognormal needs sigma in (0, 5], got %v", d.Sigma)
		}
	default:
		return fieldErr(p+".kind", "must be one of constant, uniform, exponential, lognormal; got %q", d.Kind)
	}
	return nil
}

func (c ClientSpec) validate() error {
	switch {
	case c.Count < 1 || c.Count > 100000:
		return fieldErr("clients.count", "must be in [1, 100000], got %d", c.Count)
	case c.Mode != Sync && c.Mode != Open:
		return fieldErr("clients.mode", "must be \"sync\" or \"open\", got %q", c.Mode)
	case c.Concurrency < 1:
		return fieldErr("clients.concurrency", "must be at least 1, got %d", c.Concurrency)
	case c.Mode == Open && !(c.Rate > 0 && c.Rate < 1e7):
		return fieldErr("clients.rate", "open-loop clients need a rate in (0, 1e7) per second, got %v", c.Rate)
	case c.Mode == Sync && c.Rate != 0:
		return fieldErr("clients.rate", "only open-loop clients have a rate (mode is %q)", c.Mode)
	case c.Requests < 0:
		return fieldErr("clients.requests", "must not be negative, got %d", c.Requests)
	case c.Duration < 0:
		return fieldErr("clients.duration", "must not be negative, got %v", c.Duration)
	case c.Requests == 0 && c.Duration == 0:
		return fieldErr("clients.requests", "set requests or duration (or both), or the run never ends")
	case c.Think < 0:
		return fieldErr("clients.think", "must not be negative, got %v", c.Think)
	case c.Timeout < 0:
		return fieldErr("clients.timeout", "must not be negative, got %v", c.Timeout)
	case c.Attempts < 0:
		return fieldErr("clients.attempts", "must not be negative, got %d", c.Attempts)
	case !(c.MMI >= 0 && c.MMI <= 1):
		return fieldErr("clients.mmi", "must be a fraction in [0, 1], got %v", c.MMI)
	}
	return nil
}

func (f Faults) validate(s Scenario) error {
	workers, clients := 0, s.Clients.Count
	for _, sv := range s.Services {
		workers += sv.Workers
	}
	isWorker := func(n string) bool { return nodeIndex(n, "w", workers) }
	isClient := func(n string) bool { return nodeIndex(n, "c", clients) }
	for i, e := range f.Events {
		p := "faults.event[" + strconv.Itoa(i) + "]"
		if e.At < 0 {
			return fieldErr(p+".at", "must not be negative, got %v", e.At)
		}
		if e.For < 0 {
			return fieldErr(p+".for", "must not be negative, got %v", e.For)
		}
		if !(e.Prob > 0 && e.Prob <= 1) {
			return fieldErr(p+".prob", "must be a probability in (0, 1], got %v", e.Prob)
		}
		if e.Direction != ToBroker && e.Direction != FromBroker && e.Direction != Both {
			return fieldErr(p+".direction", "must be to-broker, from-broker or both, got %q", e.Direction)
		}
		if e.Count < 1 || e.Count > 1000000 {
			return fieldErr(p+".count", "must be in [1, 1000000], got %d", e.Count)
		}
		needWorker := func(allowAll bool) error {
			if (allowAll && e.Node == "") || isWorker(e.Node) {
				return nil
			}
			return fieldErr(p+".node", "%s needs a worker w1..w%d, got %q", e.Kind, workers, e.Node)
		}
		needFor := func() error {
			if e.For <= 0 {
				return fieldErr(p+".for", "%s needs a positive duration", e.Kind)
			}
			return nil
		}
		var err error
		switch e.Kind {
		case FamCrash, FamRestart:
			err = needWorker(false)
		case FamPause:
			if err = needWorker(false); err == nil {
				err = needFor()
			}
		case FamSlow, FamHeartbeatLoss:
			if err = needWorker(true); err == nil {
				err = needFor()
			}
			if err == nil && e.Kind == FamSlow && e.Delay <= 0 {
				err = fieldErr(p+".delay", "slow needs the handler time as a positive delay")
			}
		case FamDrop, FamDuplicate, FamDelay, FamReorder:
			if e.Node != "" && e.Node != "broker" && !isWorker(e.Node) && !isClient(e.Node) {
				err = fieldErr(p+".node", "no node %q (broker, w1..w%d, c1..c%d)", e.Node, workers, clients)
			} else if err = needFor(); err == nil && (e.Kind == FamDelay || e.Kind == FamReorder) && e.Delay <= 0 {
				err = fieldErr(p+".delay", "%s needs a positive delay", e.Kind)
			}
		case FamPartition:
			if !isWorker(e.Node) && !isClient(e.Node) {
				err = fieldErr(p+".node", "partition needs a worker or client node, got %q", e.Node)
			} else {
				err = needFor()
			}
		case FamBrokerRestart:
			err = needFor()
		case FamSkew:
			if e.Node != "broker" && !isWorker(e.Node) && !isClient(e.Node) {
				err = fieldErr(p+".node", "no node %q (broker, w1..w%d, c1..c%d)", e.Node, workers, clients)
			} else if !(e.Rate >= 0.1 && e.Rate <= 10) {
				err = fieldErr(p+".rate", "must be a clock rate in [0.1, 10], got %v", e.Rate)
			}
		case FamMalformed:
		default:
			err = fieldErr(p+".kind", "unknown fault kind %q (one of %s)", e.Kind, strings.Join(Families, ", "))
		}
		if err != nil {
			return err
		}
	}
	if err := f.Random.validate(); err != nil {
		return err
	}
	for i, d := range f.Decisions {
		p := "faults.decision[" + strconv.Itoa(i) + "]"
		if !slices.Contains(Families, d.Family) {
			return fieldErr(p+".family", "unknown fault family %q", d.Family)
		}
		if d.At < 0 || d.Dur < 0 {
			return fieldErr(p+".at", "times must not be negative")
		}
	}
	if len(f.Decisions) > 0 && !f.Replay {
		return fieldErr("faults.replay", "decisions are only used with replay = true")
	}
	return nil
}

func (r RandomFaults) validate() error {
	rates := []struct {
		key  string
		v    float64
		prob bool
	}{
		{"crash", r.Crash, false}, {"restart", r.Restart, false}, {"pause", r.Pause, false},
		{"slow", r.Slow, true}, {"heartbeat_loss", r.HeartbeatLoss, true}, {"drop", r.Drop, true},
		{"duplicate", r.Duplicate, true}, {"delay", r.Delay, true}, {"reorder", r.Reorder, true},
		{"partition", r.Partition, false}, {"broker_restart", r.BrokerRestart, false},
		{"skew", r.Skew, false}, {"malformed", r.Malformed, false},
	}
	for _, x := range rates {
		if math.IsNaN(x.v) || x.v < 0 {
			return fieldErr("faults.random."+x.key, "must not be negative, got %v", x.v)
		}
		if x.prob && x.v > 1 {
			return fieldErr("faults.random."+x.key, "is a probability per message or request, at most 1, got %v", x.v)
		}
		if !x.prob && x.v > 1000 {
			return fieldErr("faults.random."+x.key, "is a rate per second, at most 1000, got %v", x.v)
		}
	}
	if r.Skew >= 0.9 {
		return fieldErr("faults.random.skew", "must be below 0.9 (clock rates stay positive), got %v", r.Skew)
	}
	durs := []struct {
		key string
		v   time.Duration
	}{
		{"restart_after", r.RestartAfter}, {"pause_for", r.PauseFor}, {"slow_time", r.SlowTime},
		{"delay_max", r.DelayMax}, {"reorder_max", r.ReorderMax}, {"partition_for", r.PartitionFor},
		{"broker_down", r.BrokerDown},
	}
	for _, d := range durs {
		if d.v < 0 {
			return fieldErr("faults.random."+d.key, "must not be negative, got %v", d.v)
		}
	}
	if r.HeartbeatDirection != ToBroker && r.HeartbeatDirection != FromBroker && r.HeartbeatDirection != Both {
		return fieldErr("faults.random.heartbeat_direction", "must be to-broker, from-broker or both, got %q", r.HeartbeatDirection)
	}
	return nil
}

// nodeIndex reports whether name is prefix followed by a number in [1, n].
func nodeIndex(name, prefix string, n int) bool {
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	k, err := strconv.Atoi(name[len(prefix):])
	return err == nil && k >= 1 && k <= n && name[len(prefix)] != '0'
}
