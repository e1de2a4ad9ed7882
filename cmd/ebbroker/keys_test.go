package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeygen checks the files keygen writes and that it refuses to overwrite them.
func TestKeygen(t *testing.T) {
	name := filepath.Join(t.TempDir(), "broker")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keygen", name}, &stdout, &stderr); code != 0 {
		t.Fatalf("keygen = %d (stderr %q)", code, stderr.String())
	}
	for ext, mode := range map[string]os.FileMode{".key": 0o600, ".pub": 0o644} {
		fi, err := os.Stat(name + ext)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %04o; want %04o", ext, fi.Mode().Perm(), mode)
		}
		b, err := os.ReadFile(name + ext)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 41 || b[40] != '\n' {
			t.Errorf("%s = %q; want a 40-character key and a newline", ext, b)
		}
	}
	if code := run([]string{"keygen", name}, &stdout, &stderr); code != 1 {
		t.Errorf("keygen over existing files = %d; want 1", code)
	}
}

// TestKeyFileErrors checks that each bad key file gives one clear line and exit 2.
func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "k")
	var out bytes.Buffer
	if code := run([]string{"keygen", name}, &out, &out); code != 0 {
		t.Fatalf("keygen: %s", out.String())
	}
	pub, err := os.ReadFile(name + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(pub))
	file := func(base, text string, mode os.FileMode) string {
		p := filepath.Join(dir, base)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	open := file("open.key", key+"\n", 0o644)
	badSecret := file("bad.key", "not-a-key\n", 0o600)
	badClients := file("clients", key+"\nshort\n", 0o644)
	badWorkers := file("workers", "# comment\necho "+key+"\necho\n", 0o644)
	secret := name + ".key"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"secret readable by others", []string{"--curve-secret", open}, "--curve-secret " + open + ": mode 0644: a secret key file must be readable by its owner only"},
		{"bad secret key", []string{"--curve-secret", badSecret}, badSecret + ":1: zmq: bad CURVE key"},
		{"missing secret", []string{"--curve-secret", filepath.Join(dir, "none")}, "no such file"},
		{"bad client line", []string{"--curve-secret", secret, "--clients-allow", badClients}, "--clients-allow " + badClients + ":2: zmq: bad CURVE key: \"short\""},
		{"bad worker line", []string{"--curve-secret", secret, "--workers-allow", badWorkers}, badWorkers + ":3: want SERVICE PUBKEY"},
		{"allow without curve", []string{"--workers-allow", badWorkers}, "need --curve-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--frontend", "tcp://127.0.0.1:*", "--backend", "-"}, tc.args...)
			if code := run(args, &stdout, &stderr); code != 2 {
				t.Errorf("run(%q) = %d; want 2", args, code)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr %q; want one line containing %q", stderr.String(), tc.want)
			}
		})
	}
}

// TestAnnounceCurve checks that the broker logs, as its server key, the public key
// keygen wrote next to the secret it was started with.
func TestAnnounceCurve(t *testing.T) {
	name := filepath.Join(t.TempDir(), "broker")
	var out bytes.Buffer
	if code := run([]string{"keygen", name}, &out, &out); code != 0 {
		t.Fatalf("keygen = %d (%q)", code, out.String())
	}
	cfg, err := parse([]string{"--curve-secret", name + ".key"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(name + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := announceCurve(slog.New(slog.NewJSONHandler(&log, nil)), cfg.broker.Curve); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Msg       string `json:"msg"`
		ServerKey string `json:"server_key"`
	}
	if err := json.Unmarshal(log.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", log.String(), err)
	}
	if want := strings.TrimSpace(string(pub)); rec.Msg != "CURVE on" || rec.ServerKey != want {
		t.Errorf("log %q; want msg \"CURVE on\" and server_key %q", log.String(), want)
	}
	log.Reset()
	if err := announceCurve(slog.New(slog.NewTextHandler(&log, nil)), nil); err != nil || log.Len() != 0 {
		t.Errorf("without CURVE: err %v, log %q; want neither", err, log.String())
	}
}
