package conformance

// mutant is a deliberate bug: an exact text replacement in one core source file. Old
// must occur exactly once in File, or the mutant no longer applies (the mutant test
// then fails and says so). Most are bugs that real Majordomo implementations shipped.
type mutant struct {
	Name string
	Note string // where the bug was seen
	File string // relative to the module root
	Old  string
	New  string
}

// mutants are the bugs conformance must kill.
var mutants = []mutant{
	{
		Name: "purge-stops-at-first-live",
		Note: "zguide mdbroker purge; booksbyus/zguide#579",
		File: "core/broker_time.go",
		Old: `	for _, w := range b.order {
		if !w.expiry.After(now) {
			dead = append(dead, w)
		}
	}`,
		New: `	for _, w := range b.order {
		if w.expiry.After(now) {
			break
		}
		dead = append(dead, w)
	}`,
	},
	{
		Name: "mmi-check-on-sender",
		Note: "zguide C and Go brokers; booksbyus/zguide PR #159",
		File: "core/broker_worker.go",
		Old:  `case isMMI(m.Service):`,
		New:  `case isMMI([]byte(from.ID)):`,
	},
	{
		Name: "waiting-list-of-another-service",
		Note: "zeromq/majordomo#61",
		File: "core/broker_worker.go",
		Old: `func (b *Broker) refill(now time.Time, w *worker) {
	s := w.service`,
		New: `func (b *Broker) refill(now time.Time, w *worker) {
	s := b.svcOrder[0]`,
	},
	{
		Name: "busy-workers-never-expire",
		Note: "zguide mdbroker (purges only the waiting list)",
		File: "core/broker_time.go",
		Old:  `if !w.expiry.After(now) {`,
		New:  `if len(w.held) == 0 && !w.expiry.After(now) {`,
	},
	{
		Name: "no-requeue-on-death",
		Note: "zeromq/malamute#89, zeromq/majordomo#45, prdn/pigato#9",
		File: "core/broker_worker.go",
		Old: `			b.fail(now, r, WorkerDied)
		}
	} else {
		b.orphan(now, rs)
	}`,
		New: `			b.fail(now, r, WorkerDied)
		}
	}`,
	},
	{
		Name: "client-accepts-stale-reply",
		Note: "zguide mdcliapi2 (a DEALER client cannot tell which request a reply answers)",
		File: "core/client_receive.go",
		Old:  `		i = c.find(m.Seq)`,
		New: `		i = c.find(m.Seq)
		if i < 0 && len(c.reqs) > 0 {
			i = 0
		}`,
	},
	{
		Name: "second-ready-accepted",
		Note: "RFC 7 rule 1 ignored",
		File: "core/broker_worker.go",
		Old: `		case w != nil:
			// RFC 7: a worker must not send READY twice.
			b.disconnect(now, w, DuplicateReady)`,
		New: `		case w != nil:
			w.expiry = now.Add(b.expiry)`,
	},
	{
		Name: "disconnect-counted-as-heartbeat",
		Note: "RFC 7 rules 3 and 8 ignored",
		File: "core/broker_worker.go",
		Old: `		if w != nil {
			b.removeWorker(now, w, Disconnected)
		}`,
		New: `		if w != nil {
			w.expiry = now.Add(b.expiry)
		}`,
	},
	{
		Name: "services-never-removed",
		Note: "zguide mdbroker (\"we could delete them as workers disappear, but forget that for now\")",
		File: "core/broker.go",
		Old:  `if s.workers > 0 || s.queue.len() > 0 {`,
		New:  `if s != nil {`,
	},
	{
		Name: "mmi-200-only-for-idle",
		Note: "zguide Go mdbroker (len(service.waiting) > 0)",
		File: "core/broker_mmi.go",
		Old:  `if s == nil || s.workers == 0 {`,
		New:  `if s == nil || len(s.waiting) == 0 {`,
	},
	{
		Name: "heartbeats-only-to-idle",
		Note: "zguide mdbroker (heartbeats only the waiting list)",
		File: "core/broker_time.go",
		Old: `	for _, w := range b.order {
		b.out.add(`,
		New: `	for _, w := range b.order {
		if len(w.held) > 0 {
			continue
		}
		b.out.add(`,
	},
	{
		Name: "most-recently-used-dispatch",
		Note: "RFC 7 MAY any basis; ebwrk promises LRU",
		File: "core/broker.go",
		Old: `		w := s.waiting[0]
		if w.expiry.After(now) {
			s.waiting = s.waiting[1:]`,
		New: `		w := s.waiting[len(s.waiting)-1]
		if w.expiry.After(now) {
			s.waiting = s.waiting[:len(s.waiting)-1]`,
	},
	{
		Name: "reply-address-unchecked",
		Note: "zguide mdbroker (forwards any REPLY of a known worker)",
		File: "core/broker_worker.go",
		Old:  `if string(m.Address) != r.client.ID {`,
		New:  `if false {`,
	},
	{
		Name: "queue-never-expires",
		Note: "zguide mdbroker (requests for absent services wait forever)",
		File: "core/broker_time.go",
		Old: `func (b *Broker) expireQueued(now time.Time) {
	if b.cfg.QueueExpiry <= 0 {`,
		New: `func (b *Broker) expireQueued(now time.Time) {
	if true {`,
	},
	{
		Name: "unknown-heartbeat-ignored",
		Note: "prdn/pigato#20, zeromq/malamute#84 (no recovery after a broker restart)",
		File: "core/broker_worker.go",
		Old: `	case Heartbeat:
		if w == nil {
			b.refuseUnknown(from)
			return
		}`,
		New: `	case Heartbeat:
		if w == nil {
			b.drop(from, UnknownWorker, nil)
			return
		}`,
	},
	{
		Name: "client-one-attempt-too-many",
		Note: "off-by-one in the retry count",
		File: "core/client.go",
		Old:  `if r.attempts < c.cfg.Attempts {`,
		New:  `if r.attempts <= c.cfg.Attempts {`,
	},
	{
		Name: "hold-limit-never-expires",
		Note: "the hold limit configured but never armed (issue 9: phantom-busy workers)",
		File: "core/broker.go",
		Old:  `if b.cfg.HoldLimit > 0 {`,
		New:  `if false {`,
	},
	{
		Name: "hold-expiry-drops-request",
		Note: "the worker held too long is removed, its request forgotten with it",
		File: "core/broker_hold.go",
		Old: `		b.sendDisconnect(w.peer)
		b.removeWorker(now, w, HeldTooLong)`,
		New: `		b.sendDisconnect(w.peer)
		w.held = nil
		b.removeWorker(now, w, HeldTooLong)`,
	},
	{
		Name: "heartbeat-extends-hold",
		Note: "heartbeats taken for progress: a hung worker that heartbeats is never freed",
		File: "core/broker_worker.go",
		Old: `		if w == nil {
			b.refuseUnknown(from)
			return
		}
		w.expiry = now.Add(b.expiry)
	case Reply:`,
		New: `		if w == nil {
			b.refuseUnknown(from)
			return
		}
		w.expiry = now.Add(b.expiry)
		for i := range w.held {
			if b.cfg.HoldLimit > 0 {
				w.held[i].heldTo = now.Add(b.cfg.HoldLimit)
			}
		}
	case Reply:`,
	},
	{
		Name: "dispatch-beyond-credit",
		Note: "issue 13: a credit worker kept on the waiting list when full",
		File: "core/broker.go",
		Old: `	if len(w.held) < w.credit {
		w.service.waiting = append(w.service.waiting, w)`,
		New: `	if len(w.held) <= w.credit {
		w.service.waiting = append(w.service.waiting, w)`,
	},
	{
		Name: "requeue-only-first-held",
		Note: "issue 13: a dead credit worker's first request requeued, the rest lost",
		File: "core/broker_worker.go",
		Old:  `	for _, h := range held {`,
		New:  `	for _, h := range held[:1] {`,
	},
	{
		Name: "credit-reply-matched-by-client-only",
		Note: "issue 13: a REPLY matched by its client address alone, as MDP/0.1 brokers do",
		File: "core/broker_worker.go",
		Old:  `if h.tag == tag && h.r.client.ID == string(id) {`,
		New:  `if _ = tag; h.r.client.ID == string(id) {`,
	},
	{
		Name: "credit-ignored",
		Note: "a broker that drops READY's credit frame: correct, but ebwrk's broker must honour it",
		File: "core/broker_worker.go",
		Old:  `b.register(now, from, string(m.Service), max(m.Credit, 1))`,
		New:  `b.register(now, from, string(m.Service), 1)`,
	},
}
