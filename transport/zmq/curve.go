package zmq

import (
	"errors"
	"fmt"
	"log/slog"

	zmq4 "github.com/pebbe/zmq4"
)

// CURVE (ZeroMQ RFC 26) encrypts a connection and authenticates both ends by their
// long-term key pairs; ZAP (RFC 27) lets the broker accept or refuse each client key
// at the handshake and name the connection by it. The broker runs its own ZAP handler
// in its own ZeroMQ context rather than zmq4's AuthStart: zmq4's handler lives in
// zmq4's default context, which a broker's socket (in a context of its own) never
// reaches — libzmq then lets every key in without asking — and it is one per process,
// with global tables, where each Broker needs its own.

// ErrBadKey is matched (errors.Is) by the error for a key that is not 40 characters
// of Z85 encoding 32 bytes.
var ErrBadKey = errors.New("zmq: bad CURVE key")

// zapEndpoint is where libzmq asks the ZAP handler of a context (RFC 27).
const zapEndpoint = "inproc://zeromq.zap.01"

// zapDomain is the ZAP domain of the broker's socket.
const zapDomain = "ebwrk"

// BrokerCurve turns CURVE on for every endpoint of a Broker.
type BrokerCurve struct {
	// SecretKey is the broker's secret key (Z85, 40 characters); its public key,
	// which clients and workers need, is derived from it (PublicKey).
	SecretKey string
	// Allow lists the public keys (Z85) admitted at the handshake; any other is
	// refused before it can send anything. Nil admits every key: the connection is
	// still encrypted and the broker authenticated, and the broker still learns each
	// peer's key for core.BrokerConfig.Access.
	Allow []string
}

// CurveKeys turns CURVE on for a Client's or a Worker's connection.
type CurveKeys struct {
	// ServerKey is the broker's public key (Z85): a broker without its secret key
	// cannot complete the handshake.
	ServerKey string
	// PublicKey and SecretKey are this peer's own key pair (Z85), by which the
	// broker knows it.
	PublicKey string
	SecretKey string
}

// NewCurveKeyPair returns a new CURVE key pair, in Z85.
func NewCurveKeyPair() (public, secret string, err error) {
	public, secret, err = zmq4.NewCurveKeypair()
	if err != nil {
		return "", "", fmt.Errorf("zmq: new CURVE key pair: %w", err)
	}
	return public, secret, nil
}

// PublicKey returns the public key of a secret key, both in Z85.
func PublicKey(secret string) (string, error) {
	if err := CheckKey(secret); err != nil {
		return "", err
	}
	pub, err := zmq4.AuthCurvePublic(secret)
	if err != nil {
		return "", fmt.Errorf("zmq: CURVE public key: %w", err)
	}
	return pub, nil
}

// CheckKey reports whether key is a CURVE key in Z85: 40 characters of the Z85
// alphabet.
func CheckKey(key string) error {
	if len(key) != 40 || len(zmq4.Z85decode(key)) != 32 {
		return fmt.Errorf("%w: %q is not 40 characters of Z85", ErrBadKey, key)
	}
	return nil
}

// apply sets the CURVE client options on s; nil keys leave it plain.
func (k *CurveKeys) apply(s *zmq4.Socket) error {
	if k == nil {
		return nil
	}
	for _, key := range []string{k.ServerKey, k.PublicKey, k.SecretKey} {
		if err := CheckKey(key); err != nil {
			return err
		}
	}
	for _, set := range []func() error{
		func() error { return s.SetCurveServerkey(k.ServerKey) },
		func() error { return s.SetCurvePublickey(k.PublicKey) },
		func() error { return s.SetCurveSecretkey(k.SecretKey) },
	} {
		if err := set(); err != nil {
			return fmt.Errorf("zmq: set CURVE client keys: %w", err)
		}
	}
	return nil
}

// startCurve makes s a CURVE server in domain zapDomain and starts the broker's ZAP
// handler, before anything is bound, so that no handshake comes before the handler.
func (b *Broker) startCurve(s *zmq4.Socket) error {
	c := b.opts.Curve
	if err := CheckKey(c.SecretKey); err != nil {
		return err
	}
	var allow map[string]bool
	if c.Allow != nil {
		allow = make(map[string]bool, len(c.Allow))
		for _, k := range c.Allow {
			if err := CheckKey(k); err != nil {
				return err
			}
			allow[k] = true
		}
	}
	rep, err := newSocket(b.zctx, zmq4.REP, defaultHWM, 0)
	if err != nil {
		return err
	}
	if err := rep.Bind(zapEndpoint); err != nil {
		return errors.Join(fmt.Errorf("zmq: bind ZAP handler: %w", err), rep.Close())
	}
	b.zapDone = make(chan struct{})
	go serveZAP(rep, allow, b.opts.Logger, b.zapDone)
	if err := s.ServerAuthCurve(zapDomain, c.SecretKey); err != nil {
		return fmt.Errorf("zmq: set CURVE server: %w", err)
	}
	b.scratch.user.on = true
	return nil
}

// serveZAP answers ZAP requests (RFC 27) on rep until the context terminates: a CURVE
// key in allow (or any key, when allow is nil) gets 200 with the key in Z85 as the
// User-Id, which libzmq attaches to every message of the connection; anything else
// 400. It retries on EINTR; any other error ends it, and libzmq then refuses every
// handshake, since the handler it asks no longer answers.
func serveZAP(rep *zmq4.Socket, allow map[string]bool, log *slog.Logger, done chan<- struct{}) {
	defer close(done)
	defer rep.Close()
	for {
		req, err := rep.RecvMessageBytes(0)
		if err != nil {
			if isInterrupted(err) {
				continue
			}
			if zmq4.AsErrno(err) != zmq4.ETERM && log != nil {
				log.Error("ZAP handler stopped", slog.String("err", err.Error()))
			}
			return
		}
		reply := zapReply(req, allow, log)
		for {
			_, err = rep.SendMessage(reply...)
			if err == nil || !isInterrupted(err) {
				break
			}
		}
		if err != nil {
			if zmq4.AsErrno(err) != zmq4.ETERM && log != nil {
				log.Error("ZAP handler stopped", slog.String("err", err.Error()))
			}
			return
		}
	}
}

// zapReply answers one ZAP request: version, request id, domain, address, identity,
// mechanism, credentials (RFC 27).
func zapReply(req [][]byte, allow map[string]bool, log *slog.Logger) []any {
	if len(req) < 6 {
		return []any{"1.0", "", "500", "malformed ZAP request", "", ""}
	}
	version, id, mechanism := req[0], req[1], string(req[5])
	refuse := []any{version, id, "400", "not allowed", "", ""}
	if mechanism != "CURVE" || len(req) < 7 || len(req[6]) != 32 {
		return refuse
	}
	key := zmq4.Z85encode(string(req[6]))
	if allow != nil && !allow[key] {
		if log != nil {
			log.Warn("handshake refused", slog.String("key", key), slog.String("address", string(req[3])))
		}
		return refuse
	}
	return []any{version, id, "200", "OK", key, ""}
}

// peerKey returns the CURVE key of the message just received, interned; "" without
// CURVE.
func (b *Broker) peerKey() string {
	if !b.scratch.user.on {
		return ""
	}
	u := b.scratch.user.bytes()
	if len(u) == 0 {
		return ""
	}
	return b.keys.get(u)
}
