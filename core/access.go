package core

// AnyService in a Grant lets its key serve every service.
const AnyService = "*"

// Grant lets the worker authenticated with Key serve Service (AnyService: any).
type Grant struct {
	Service string
	Key     string
}

// Access says which authenticated peers may do what at the broker. The transport
// authenticates peers (CURVE, ZeroMQ RFC 26) and tells the broker each message's key
// (ReceiveKey); the broker applies the rule. The zero value allows everything, as a
// broker without authentication does.
type Access struct {
	// Workers, when not nil, lists which keys may serve which services. A READY from a
	// peer whose key is not granted its service gets DISCONNECT and is reported as an
	// InputDropped event (NotAuthorized, with the Service and the Key): the peer is
	// never registered, so no request ever reaches it. A non-nil empty list lets no
	// one serve.
	Workers []Grant
	// Clients, when not nil, lists the keys that may send client requests (mmi.
	// included). A request from any other key is dropped (NotAuthorized) and never
	// answered. A non-nil empty list lets no one request.
	Clients []string
}

// access is Access as the broker looks it up.
type access struct {
	workers map[Grant]bool // nil: anyone serves anything
	clients map[string]bool
}

func newAccess(a Access) access {
	var ac access
	if a.Workers != nil {
		ac.workers = make(map[Grant]bool, len(a.Workers))
		for _, g := range a.Workers {
			ac.workers[g] = true
		}
	}
	if a.Clients != nil {
		ac.clients = make(map[string]bool, len(a.Clients))
		for _, k := range a.Clients {
			ac.clients[k] = true
		}
	}
	return ac
}

// mayServe reports whether the worker with key may register for service.
func (a *access) mayServe(key, service string) bool {
	if a.workers == nil {
		return true
	}
	return key != "" && (a.workers[Grant{Service: service, Key: key}] || a.workers[Grant{Service: AnyService, Key: key}])
}

// mayRequest reports whether the client with key may send requests.
func (a *access) mayRequest(key string) bool {
	return a.clients == nil || (key != "" && a.clients[key])
}
