package core

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCreditAddressFrame checks the REQUEST a broker sends: a plain worker's address
// frame is the client identity (RFC 7); a credit worker's is the identity and the
// dispatch tag, 8 bytes big-endian, counted from 1 over the broker's dispatches to
// credit workers.
func TestCreditAddressFrame(t *testing.T) {
	tagged := func(id string, tag uint64) []byte { return binary.BigEndian.AppendUint64([]byte(id), tag) }
	tests := []struct {
		name   string
		credit string // the READY credit frame; "" for none
		want   [][]byte
	}{
		{"plain", "", [][]byte{[]byte("c1"), []byte("c1")}},
		{"credit 1", "1", [][]byte{[]byte("c1"), []byte("c1")}},
		{"credit 2", "2", [][]byte{tagged("c1", 1), tagged("c1", 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			b := NewBroker(BrokerConfig{}, now)
			ready := frames("", WorkerHeader, "\x01", "echo")
			if tt.credit != "" {
				ready = append(ready, []byte(tt.credit))
			}
			b.Receive(now, Peer{Backend, "w1"}, ready)
			for seq := uint64(1); seq <= 2; seq++ {
				b.Receive(now, Peer{Frontend, "c1"}, frames(seqFrame(seq, StatusOK), "", ClientHeader, "echo", "x"))
				if tt.credit == "" || tt.credit == "1" {
					b.Receive(now, Peer{Backend, "w1"}, frames("", WorkerHeader, "\x03", "c1", "", "y"))
				}
			}
			var got [][]byte
			for _, o := range b.Drain() {
				if o.Kind == SendOutput && o.Command == Request {
					got = append(got, o.Frames[3])
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("REQUEST address frames mismatch (-want +got):\n%s", d)
			}
		})
	}
}
