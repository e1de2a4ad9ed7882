package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ebwrk/ebwrk/core"
)

// TestAccessProperty is the authorization rule (BrokerConfig.Access) under random
// action sequences on core.Broker: random grants and allowed client keys, peers
// with random keys (or none) sending READY, requests, replies, heartbeats and
// DISCONNECT, and time passing. After every action: every registered worker's key is
// granted its service; every REQUEST sent went to such a worker and came from an
// allowed client; every refused READY got DISCONNECT and a NotAuthorized event naming
// the key; and no request from a refused client was ever taken in.
func TestAccessProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := []string{"", "KA", "KB", "KC"}
		services := []string{"echo", "other"}
		var access core.Access
		if rapid.Bool().Draw(t, "restrictWorkers") {
			access.Workers = []core.Grant{}
			for _, k := range keys[1:] {
				if s := rapid.SampledFrom(append([]string{"", core.AnyService}, services...)).Draw(t, "grant"+k); s != "" {
					access.Workers = append(access.Workers, core.Grant{Service: s, Key: k})
				}
			}
		}
		if rapid.Bool().Draw(t, "restrictClients") {
			access.Clients = []string{}
			for _, k := range keys[1:] {
				if rapid.Bool().Draw(t, "client"+k) {
					access.Clients = append(access.Clients, k)
				}
			}
		}
		granted := func(key, service string) bool {
			if access.Workers == nil {
				return true
			}
			return key != "" && (slices.Contains(access.Workers, core.Grant{Service: service, Key: key}) ||
				slices.Contains(access.Workers, core.Grant{Service: core.AnyService, Key: key}))
		}
		allowed := func(key string) bool {
			return access.Clients == nil || (key != "" && slices.Contains(access.Clients, key))
		}

		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		b := core.NewBroker(core.BrokerConfig{HeartbeatInterval: time.Second, Access: access}, now)
		keyOf := map[core.Peer]string{} // each peer's key, fixed per connection
		fromKey := map[string]string{}  // the client key of each client ID
		ready := map[core.Peer]string{} // the service each READY named
		frames := func(m core.Message) [][]byte { return m.Frames() }
		seq := uint64(0)

		check := func(action string, outs []core.Output) {
			for _, o := range outs {
				switch {
				case o.Kind == core.SendOutput && o.Command == core.Request:
					if !granted(keyOf[o.To], o.Service) {
						t.Fatalf("%s: REQUEST %s to %v whose key %q is not granted it", action, o.Service, o.To, keyOf[o.To])
					}
					if k := fromKey[string(o.Frames[3])]; !allowed(k) {
						t.Fatalf("%s: REQUEST from client %q with refused key %q", action, o.Frames[3], k)
					}
				case o.Kind == core.EventOutput && o.First && o.Event != core.RequestDispatched:
					if k := fromKey[o.Peer.ID]; !allowed(k) {
						t.Fatalf("%s: request from %v with refused key %q taken in", action, o.Peer, k)
					}
				case o.Kind == core.EventOutput && o.Event == core.InputDropped && o.Reason == core.NotAuthorized:
					if o.Key != keyOf[o.Peer] {
						t.Fatalf("%s: refusal names key %q; the peer's is %q", action, o.Key, keyOf[o.Peer])
					}
				}
			}
			for _, w := range b.Workers() {
				if !granted(keyOf[w.Peer], w.Service) {
					t.Fatalf("%s: worker %v registered for %s with key %q not granted it", action, w.Peer, w.Service, keyOf[w.Peer])
				}
			}
		}

		peers := 0
		t.Repeat(map[string]func(*rapid.T){
			"ready": func(t *rapid.T) {
				peers++
				p := core.Peer{Socket: core.Backend, ID: fmt.Sprintf("w%d", peers)}
				keyOf[p] = rapid.SampledFrom(keys).Draw(t, "key")
				svc := rapid.SampledFrom(services).Draw(t, "service")
				ready[p] = svc
				b.ReceiveKey(now, p, keyOf[p], frames(core.Message{Protocol: core.WorkerProtocol, Command: core.Ready, Service: []byte(svc)}))
				outs := b.Drain()
				if !granted(keyOf[p], svc) && (len(outs) < 2 || outs[0].Command != core.Disconnect || outs[1].Reason != core.NotAuthorized) {
					t.Fatalf("READY %s with key %q: got %v; want DISCONNECT and a refusal", svc, keyOf[p], outs)
				}
				check("ready", outs)
			},
			"request": func(t *rapid.T) {
				id := fmt.Sprintf("c%d", rapid.IntRange(0, 3).Draw(t, "client"))
				p := core.Peer{Socket: core.Frontend, ID: id}
				if _, ok := fromKey[id]; !ok {
					fromKey[id] = rapid.SampledFrom(keys).Draw(t, "key")
				}
				keyOf[p] = fromKey[id]
				seq++
				svc := rapid.SampledFrom(services).Draw(t, "service")
				b.ReceiveKey(now, p, keyOf[p], frames(core.Message{Protocol: core.ClientProtocol, Envelope: true, Seq: seq,
					Service: []byte(svc), Body: [][]byte{[]byte("x")}}))
				check("request", b.Drain())
			},
			"reply": func(t *rapid.T) {
				ws := b.Workers()
				if len(ws) == 0 {
					t.Skip("no worker")
				}
				w := rapid.SampledFrom(ws).Draw(t, "worker")
				b.ReceiveKey(now, w.Peer, keyOf[w.Peer], frames(core.Message{Protocol: core.WorkerProtocol, Command: core.Reply,
					Address: []byte(rapid.SampledFrom([]string{"c0", "c1", "c2", "c3"}).Draw(t, "to")), Body: [][]byte{[]byte("x")}}))
				check("reply", b.Drain())
			},
			"heartbeat-or-disconnect": func(t *rapid.T) {
				if peers == 0 {
					t.Skip("no peer")
				}
				p := core.Peer{Socket: core.Backend, ID: fmt.Sprintf("w%d", rapid.IntRange(1, peers).Draw(t, "peer"))}
				cmd := rapid.SampledFrom([]core.Command{core.Heartbeat, core.Disconnect}).Draw(t, "command")
				b.ReceiveKey(now, p, keyOf[p], frames(core.Message{Protocol: core.WorkerProtocol, Command: cmd}))
				check("heartbeat", b.Drain())
			},
			"advance": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(1, 2000).Draw(t, "ms")) * time.Millisecond)
				b.Advance(now)
				check("advance", b.Drain())
			},
		})
	})
}
