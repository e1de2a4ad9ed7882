package zmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrMMI is matched by the error of Discover when the broker's answer is not "200" or
// "404" (e.g. "501" from a broker without mmi.service).
var ErrMMI = errors.New("zmq: unexpected mmi answer")

// RequestJSON sends req, encoded as JSON in one frame, to service and decodes the
// reply's first frame into reply (a pointer, as for json.Unmarshal; nil discards the
// reply). This is the seed's client.send(service, dict).
func (c *Client) RequestJSON(ctx context.Context, service string, req, reply any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("zmq: encode request to %s: %w", service, err)
	}
	frames, err := c.Request(ctx, service, body)
	if err != nil {
		return err
	}
	if reply == nil {
		return nil
	}
	if len(frames) == 0 {
		return fmt.Errorf("zmq: reply from %s: no body frame", service)
	}
	if err := json.Unmarshal(frames[0], reply); err != nil {
		return fmt.Errorf("zmq: decode reply from %s: %w", service, err)
	}
	return nil
}

// Discover asks the broker whether service has at least one live worker, idle or
// busy: RFC 8's mmi.service, true for "200" and false for "404". The ebwkapi
// shorthand works through Request too: Request(ctx, "mmi."+service) replies with
// the frames service, "200"|"404".
func (c *Client) Discover(ctx context.Context, service string) (bool, error) {
	frames, err := c.Request(ctx, "mmi.service", []byte(service))
	if err != nil {
		return false, err
	}
	if len(frames) == 0 {
		return false, fmt.Errorf("%w for %s: no body frame", ErrMMI, service)
	}
	switch code := string(frames[len(frames)-1]); code {
	case "200":
		return true, nil
	case "404":
		return false, nil
	default:
		return false, fmt.Errorf("%w for %s: %q", ErrMMI, service, code)
	}
}
