package conformance

import (
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// TestWireMem runs every wire case against the broker on transport/mem (virtual
// time, 1 ms one-way latency). The catalogue's checker watches the broker as well:
// a case also fails when any check breaks during it.
func TestWireMem(t *testing.T) {
	RunWire(t, WireCases, func(t *testing.T, cfg core.BrokerConfig) Transport {
		tr, err := NewMemTransport(cfg, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			tr.Checker().Finish(tr.Now())
			if tr.Checker().Failed() {
				t.Errorf("%s", tr.Checker().Report())
			}
		})
		return tr
	})
}
