package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// keygen is `ebbroker keygen NAME`: it writes NAME.key (the secret key, mode 0600)
// and NAME.pub (the public key), each the 40-character Z85 key on one line, and
// refuses to overwrite either.
func keygen(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "ebbroker: usage: ebbroker keygen NAME (writes NAME.key and NAME.pub)")
		return 2
	}
	name := args[0]
	pub, sec, err := zmq.NewCurveKeyPair()
	if err == nil {
		err = writeNew(name+".key", sec, 0o600)
	}
	if err == nil {
		err = writeNew(name+".pub", pub, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ebbroker: keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s.key (secret, mode 0600) and %s.pub: %s\n", name, name, pub)
	return 0
}

// writeNew writes key and a newline to a new file with the given mode.
func writeNew(path, key string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(key + "\n")
	return errors.Join(err, f.Close())
}

// security reads the key files of the CURVE flags into the broker's options: the
// secret key, the client keys and the worker grants. Each error names the flag, the
// file and, for a bad line, its number.
func security(cfg *config, secretFile, clientsFile, workersFile string) error {
	if secretFile == "" {
		if clientsFile != "" || workersFile != "" {
			return errors.New("--clients-allow and --workers-allow need --curve-secret")
		}
		return nil
	}
	secret, err := readSecret(secretFile)
	if err != nil {
		return fmt.Errorf("--curve-secret %s: %w", secretFile, err)
	}
	curve := &zmq.BrokerCurve{SecretKey: secret}
	access := &cfg.broker.Config.Access
	if clientsFile != "" {
		err := readLines(clientsFile, func(f []string) error {
			if len(f) != 1 {
				return errors.New("want one PUBKEY")
			}
			access.Clients = append(access.Clients, f[0])
			return zmq.CheckKey(f[0])
		})
		if err != nil {
			return fmt.Errorf("--clients-allow %s", err)
		}
		if access.Clients == nil {
			access.Clients = []string{}
		}
	}
	if workersFile != "" {
		err := readLines(workersFile, func(f []string) error {
			if len(f) != 2 {
				return errors.New("want SERVICE PUBKEY (SERVICE * for any)")
			}
			access.Workers = append(access.Workers, core.Grant{Service: f[0], Key: f[1]})
			return zmq.CheckKey(f[1])
		})
		if err != nil {
			return fmt.Errorf("--workers-allow %s", err)
		}
		if access.Workers == nil {
			access.Workers = []core.Grant{}
		}
	}
	// One socket serves both sub-protocols, so the handshake can refuse a key only
	// when both lists are given; the core then checks each message kind.
	if clientsFile != "" && workersFile != "" {
		curve.Allow = append([]string{}, access.Clients...)
		for _, g := range access.Workers {
			curve.Allow = append(curve.Allow, g.Key)
		}
	}
	cfg.broker.Curve = curve
	return nil
}

// readSecret reads a secret key file, which only its owner may read.
func readSecret(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("mode %04o: a secret key file must be readable by its owner only (chmod 600 %s)", fi.Mode().Perm(), path)
	}
	var key string
	err = readLines(path, func(f []string) error {
		if len(f) != 1 || key != "" {
			return errors.New("want the secret key alone")
		}
		key = f[0]
		return zmq.CheckKey(key)
	})
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", errors.New("no key in the file")
	}
	return key, nil
}

// readLines calls line with the fields of each line of the file that is not blank
// or a # comment; an error comes back as "FILE:LINE: error".
func readLines(path string, line func(fields []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := line(strings.Fields(text)); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// announceCurve logs the broker's public key when CURVE is on: the key every client
// and worker must be given as its server key.
func announceCurve(log *slog.Logger, c *zmq.BrokerCurve) error {
	if c == nil {
		return nil
	}
	pub, err := zmq.PublicKey(c.SecretKey)
	if err != nil {
		return err
	}
	log.Info("CURVE on", slog.String("server_key", pub))
	return nil
}
