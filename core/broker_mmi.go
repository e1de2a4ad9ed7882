package core

import "time"

// MMI reply codes (RFC 8).
var (
	mmiFound          = []byte("200")
	mmiNotFound       = []byte("404")
	mmiNotImplemented = []byte("501")
)

// mmi answers a request for an mmi. service; it creates nothing that lasts.
//
//   - "mmi.service" with a body: RFC 8. The last body frame names the service; the
//     reply replaces it with "200" (at least one live worker, idle or busy) or "404".
//   - "mmi.<name>" with no body: the ebwkapi shorthand. The reply body is
//     <name>, "200"|"404".
//   - any other mmi. request: "501".
func (b *Broker) mmi(now time.Time, from Peer, m *Message) {
	b.stats.Requests++
	b.stats.MMI++
	name := string(m.Service)
	var body [][]byte
	switch {
	case len(m.Body) == 0:
		target := m.Service[len(mmiPrefix):]
		body = [][]byte{target, b.lookup(now, target)}
	case name == "mmi.service":
		last := len(m.Body) - 1
		body = append(append(make([][]byte, 0, len(m.Body)), m.Body[:last]...), b.lookup(now, m.Body[last]))
	default:
		body = [][]byte{mmiNotImplemented}
	}
	reply := Message{Protocol: ClientProtocol, Envelope: m.Envelope, Seq: m.Seq, Service: m.Service, Body: body}
	b.out.add(Output{Kind: SendOutput, To: from, Frames: reply.Frames(), Protocol: ClientProtocol,
		Command: Reply, Service: name, Seq: m.Seq, Body: body})
	b.event(Output{Event: MMIAnswered, Peer: from, Service: name, Seq: m.Seq})
}

// lookup returns "200" when the named service has a live worker (registered and not
// past its expiry at now), else "404".
func (b *Broker) lookup(now time.Time, name []byte) []byte {
	s := b.services[string(name)]
	if s == nil || s.workers == 0 {
		return mmiNotFound
	}
	for _, w := range b.order {
		if w.service == s && w.expiry.After(now) {
			return mmiFound
		}
	}
	return mmiNotFound
}
