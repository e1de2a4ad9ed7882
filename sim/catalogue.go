package sim

import (
	"time"
)

const ms = time.Millisecond

// echo is a service "echo" with n workers answering in a constant 10 ms.
func echo(n int, d Dist) []ServiceSpec {
	return []ServiceSpec{{Name: "echo", Workers: n, Time: d}}
}

// withSpare adds a service "spare" with two workers that clients do not call: idle
// workers whose only sign of life is their heartbeat.
func withSpare(s []ServiceSpec) []ServiceSpec {
	return append(s, ServiceSpec{Name: "spare", Workers: 2, Time: constant(10 * ms)})
}

func constant(d time.Duration) Dist { return Dist{Kind: Constant, Mean: d} }

// fastBeat is a broker and worker heartbeat of 250 ms, so that dead workers are
// purged within a second.
var (
	fastBroker = BrokerSpec{Heartbeat: 250 * ms}
	fastWorker = WorkerSpec{Heartbeat: 250 * ms}
)

// catalogue is the built-in scenarios, in the order ebsim runs them.
var catalogue = []Scenario{
	{
		Name:        "baseline",
		Description: "no faults, an idle worker for every request: every request succeeds in exactly 4 × latency + service time",
		Services:    echo(4, Dist{Kind: Uniform, Min: 5 * ms, Max: 15 * ms}),
		Clients:     ClientSpec{Count: 4, Requests: 250, MMI: 0.05},
	},
	{
		Name:        "worker-crash",
		Description: "two workers die without DISCONNECT while holding requests (one comes back): the broker purges them and requeues what they held; no request fails",
		Broker:      fastBroker, Worker: fastWorker,
		Services: echo(4, constant(20*ms)),
		Clients:  ClientSpec{Count: 4, Requests: 150, Timeout: 2 * time.Second},
		Faults: Faults{Events: []FaultEvent{
			{At: 1005 * ms, Kind: FamCrash, Node: "w1"},
			{At: 2005 * ms, Kind: FamCrash, Node: "w2", For: 2 * time.Second},
		}},
	},
	{
		Name:        "worker-restart",
		Description: "worker processes restart: the old connection closes, the broker finds it unreachable, requeues its request, and the new process registers again",
		Services:    echo(3, constant(20*ms)),
		Clients:     ClientSpec{Count: 3, Requests: 150},
		Faults: Faults{Events: []FaultEvent{
			{At: 1005 * ms, Kind: FamRestart, Node: "w1"},
			{At: 2005 * ms, Kind: FamRestart, Node: "w2"},
		}, Random: RandomFaults{Restart: 0.05}},
	},
	{
		Name:        "worker-pause",
		Description: "a worker freezes for 4 s (connection kept, no heartbeats): clients retry elsewhere, the broker purges it, its late reply is discarded as stale",
		Services:    echo(3, constant(20*ms)),
		Clients:     ClientSpec{Count: 3, Requests: 200},
		Faults: Faults{Events: []FaultEvent{
			{At: 1005 * ms, Kind: FamPause, Node: "w1", For: 4 * time.Second},
		}},
	},
	{
		Name:        "slow-handler",
		Description: "5 % of requests take 1.5 s, longer than the 1 s client timeout: clients retry, late replies are discarded as stale",
		Services:    echo(4, constant(10*ms)),
		Clients:     ClientSpec{Count: 3, Requests: 200},
		Faults:      Faults{Random: RandomFaults{Slow: 0.05, SlowTime: 1500 * ms}},
	},
	{
		Name:        "heartbeat-loss",
		Description: "idle w3's heartbeats to the broker are lost for 5 s (the broker purges it), the broker's to idle w4 (it reconnects), and 20 % of all heartbeats",
		Services:    withSpare(echo(2, constant(10*ms))),
		Clients:     ClientSpec{Count: 2, Duration: 15 * time.Second, Services: []string{"echo"}},
		Faults: Faults{Events: []FaultEvent{
			{At: 2 * time.Second, Kind: FamHeartbeatLoss, Node: "w3", For: 5 * time.Second, Direction: ToBroker},
			{At: 2 * time.Second, Kind: FamHeartbeatLoss, Node: "w4", For: 5 * time.Second, Direction: FromBroker},
		}, Random: RandomFaults{HeartbeatLoss: 0.2}},
	},
	{
		Name:        "message-loss",
		Description: "messages dropped (0.2 %), delayed up to 300 ms (2 %) and client messages duplicated (2 %): clients retry, duplicate and stale replies are discarded",
		Services:    echo(8, constant(5*ms)),
		Clients:     ClientSpec{Count: 4, Requests: 300},
		Faults:      Faults{Random: RandomFaults{Drop: 0.002, Delay: 0.02, DelayMax: 300 * ms, Duplicate: 0.02}},
	},
	{
		Name:        "reorder",
		Description: "30 % of messages get up to 5 ms extra, so connections overtake each other; per-connection order holds and every request succeeds",
		Network:     NetworkSpec{Latency: 200 * time.Microsecond, Jitter: 100 * time.Microsecond},
		Services: []ServiceSpec{
			{Name: "echo", Workers: 3, Time: constant(2 * ms)},
			{Name: "render", Workers: 2, Time: Dist{Kind: LogNormal, Mean: 8 * ms, Sigma: 0.5}},
		},
		Clients: ClientSpec{Count: 6, Concurrency: 2, Requests: 200, MMI: 0.05},
		Faults:  Faults{Random: RandomFaults{Reorder: 0.3, ReorderMax: 5 * ms}},
	},
	{
		Name:        "partition",
		Description: "w1 is cut from the broker for 5 s and c1 for 2.5 s, then healed: w1 is purged and registers again, c1's request in flight fails after 3 attempts",
		Services:    echo(3, constant(10*ms)),
		Clients:     ClientSpec{Count: 3, Duration: 12 * time.Second},
		Faults: Faults{Events: []FaultEvent{
			{At: 2 * time.Second, Kind: FamPartition, Node: "w1", For: 5 * time.Second},
			{At: 3 * time.Second, Kind: FamPartition, Node: "c1", For: 2500 * ms},
		}},
	},
	{
		Name:        "broker-restart",
		Description: "the broker dies with its state at 3 s and comes back 800 ms later: workers are told to reconnect, clients retry, no request fails",
		Services:    echo(3, constant(10*ms)),
		Clients:     ClientSpec{Count: 3, Duration: 10 * time.Second},
		Faults: Faults{Events: []FaultEvent{
			{At: 3 * time.Second, Kind: FamBrokerRestart, For: 800 * ms},
		}},
	},
	{
		Name:        "clock-skew",
		Description: "idle w4's clock runs at 0.3× (it heartbeats too rarely and is purged, again and again), the broker's at 1.2×, c1's at 0.8×",
		Services:    withSpare(echo(3, constant(10*ms))),
		Clients:     ClientSpec{Count: 3, Duration: 15 * time.Second, Services: []string{"echo"}},
		Faults: Faults{Events: []FaultEvent{
			{Kind: FamSkew, Node: "w4", Rate: 0.3},
			{Kind: FamSkew, Node: "broker", Rate: 1.2},
			{Kind: FamSkew, Node: "c1", Rate: 0.8},
		}},
	},
	{
		Name:        "malformed",
		Description: "a hostile peer sends 20 malformed messages a second to both sockets: each is dropped and counted, nobody else notices",
		Services:    echo(3, constant(10*ms)),
		Clients:     ClientSpec{Count: 3, Duration: 10 * time.Second},
		Faults: Faults{Events: []FaultEvent{{At: 500 * ms, Kind: FamMalformed, Count: 50}},
			Random: RandomFaults{Malformed: 20}},
	},
	{
		Name:        "overload",
		Description: "open-loop load of 600 requests/s on capacity for 200: the queue fills to its bound of 100 and requests expire after 500 ms; the broker refuses them clearly",
		Broker:      BrokerSpec{QueueLimit: 100, QueueExpiry: 500 * ms},
		Services:    echo(2, constant(10*ms)),
		Clients:     ClientSpec{Count: 6, Mode: Open, Rate: 100, Duration: 5 * time.Second},
	},
	{
		Name:        "hung-handler",
		Description: "w1's handler hangs on every request from 1 s to 7 s while its worker keeps heartbeating: liveness never removes it, the 2 s hold limit does; each held request is requeued, w1 reconnects, nothing is stuck at the end",
		Broker:      BrokerSpec{HoldLimit: 2 * time.Second},
		Services:    echo(3, constant(10*ms)),
		Clients:     ClientSpec{Count: 3, Duration: 10 * time.Second},
		Faults: Faults{Events: []FaultEvent{
			{At: 1 * time.Second, Kind: FamSlow, Node: "w1", For: 6 * time.Second, Delay: time.Hour},
		}},
	},
	{
		Name:        "swarm",
		Description: "the default fault swarm: each seed switches every fault family on or off at a random rate (use with sweep); a 3 s hold limit frees workers whose reply or request was lost",
		// HoldLimit is timeout × attempts: past it no client waits for the reply.
		// Without it every lost REQUEST or REPLY leaves a worker busy for the rest of
		// the run (seed 1: 3 of 5 workers, 228 requests instead of 879).
		Broker: BrokerSpec{Heartbeat: 500 * ms, HoldLimit: 3 * time.Second},
		Worker: WorkerSpec{Heartbeat: 500 * ms, ReconnectMax: 4 * time.Second},
		Services: []ServiceSpec{
			{Name: "echo", Workers: 3, Time: constant(5 * ms)},
			{Name: "render", Workers: 2, Time: Dist{Kind: Exponential, Mean: 20 * ms}},
		},
		Clients: ClientSpec{Count: 4, Duration: 20 * time.Second, MMI: 0.05},
		Swarm:   true,
	},
	{
		Name:        "credit",
		Description: "two credit-8 workers and a plain one under pipelined load (4 clients × 6 outstanding): a credit worker holds up to 8 requests and replies out of order; w1 crashes holding several, every one is requeued, and it comes back",
		Broker:      fastBroker, Worker: fastWorker,
		Services: []ServiceSpec{
			{Name: "echo", Workers: 2, Credit: 8, Time: Dist{Kind: Exponential, Mean: 20 * ms}},
			{Name: "plain", Workers: 1, Time: Dist{Kind: Exponential, Mean: 20 * ms}},
		},
		Clients: ClientSpec{Count: 4, Concurrency: 6, Duration: 10 * time.Second, Timeout: 2 * time.Second, MMI: 0.02},
		Faults: Faults{Events: []FaultEvent{
			{At: 3005 * ms, Kind: FamCrash, Node: "w1", For: 2 * time.Second},
		}},
	},
	{
		Name:        "scale",
		Description: "100 synchronous clients on 10 workers for 60 virtual seconds (the speed target): the queue absorbs the contention",
		Services:    echo(10, Dist{Kind: Exponential, Mean: 5 * ms}),
		Clients:     ClientSpec{Count: 100, Duration: 60 * time.Second, Timeout: 2 * time.Second},
	},
}

// Catalogue returns the built-in scenarios, in order.
func Catalogue() []Scenario {
	out := make([]Scenario, len(catalogue))
	copy(out, catalogue)
	return out
}

// Lookup returns the built-in scenario called name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range catalogue {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
