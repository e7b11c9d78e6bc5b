package main

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResponsesWithALengthChunksAndUntilClose(t *testing.T) {
	cases := map[string]string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}":                                        "{}",
		"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n": `{"a":1}`,
		"HTTP/1.0 200 OK\r\n\r\nüñí": "üñí",
	}
	for raw, body := range cases {
		res, err := parseResponse([]byte(raw))
		if err != nil || string(res.body) != body {
			t.Errorf("%q: %q %v", raw, res.body, err)
		}
	}
}

func TestCutOrGarbledResponsesAreClassified(t *testing.T) {
	cases := map[string]failureKind{
		"": connectionLost,
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}":                   connectionLost,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}":      connectionLost,
		"HTTP/1.1 200 OK\r\nContent":                                        malformedResponse,
		"SSH-2.0-OpenSSH\r\n\r\n":                                           malformedResponse,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n": malformedResponse,
	}
	for raw, kind := range cases {
		_, err := parseResponse([]byte(raw))
		var ae *agentCallError
		if !errors.As(err, &ae) || ae.kind != kind {
			t.Errorf("%q: %v, want kind %d", raw, err, kind)
		}
	}
}

func TestAResponseIsCompleteOnceItsBodyIsIn(t *testing.T) {
	for raw, want := range map[string]bool{
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n":                                           false,
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{\"a":                                   false,
		"HTTP/1.1 200 OK\r\nDate: x\r\ncontent-length: 4\r\nConnection: close\r\n\r\n{\"a\"": true,
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":                                       true,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n":                     false, // read until close
	} {
		if _, ok, _ := completeResponse([]byte(raw)); ok != want {
			t.Errorf("%q: complete=%v", raw, ok)
		}
	}
}

// serve answers each connection on a fresh socket with reply(request bytes).
func serve(t *testing.T, reply func(conn net.Conn, request []byte)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64<<10)
				n, _ := conn.Read(buf)
				reply(conn, buf[:n])
			}()
		}
	}()
	return path
}

func TestPostToAgentOverARealSocket(t *testing.T) {
	var got []byte
	socket := serve(t, func(conn net.Conn, req []byte) {
		got = req
		// The answer is whole before the server closes: the client must not wait for the close.
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
		time.Sleep(2 * time.Second)
	})
	start := time.Now()
	res, err := postToAgent(socket, "/v1/cni/add", []byte(`{"x":1}`), 5*time.Second)
	if err != nil || res.status != 200 || string(res.body) != `{"ok":true}` {
		t.Fatalf("%+v %v", res, err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("waited for the close: %v", time.Since(start))
	}
	if !strings.HasPrefix(string(got), "POST /v1/cni/add HTTP/1.1\r\n") || !strings.Contains(string(got), "Content-Length: 7\r\n") || !strings.HasSuffix(string(got), "\r\n\r\n{\"x\":1}") {
		t.Errorf("request %q", got)
	}
}

func TestPostToAgentFailures(t *testing.T) {
	kind := func(err error) failureKind {
		var ae *agentCallError
		if !errors.As(err, &ae) {
			t.Fatalf("not an agentCallError: %v", err)
		}
		return ae.kind
	}
	dir := t.TempDir()
	if _, err := postToAgent(filepath.Join(dir, "none", "agent.sock"), "/", nil, time.Second); kind(err) != unreachable {
		t.Errorf("missing socket: %v", err)
	}
	// A socket file nobody listens on, as a crashed agent leaves it.
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatal(err)
	}
	if _, err := postToAgent(stale, "/", nil, time.Second); kind(err) != unreachable {
		t.Errorf("stale socket: %v", err)
	}
	silent := serve(t, func(net.Conn, []byte) { time.Sleep(3 * time.Second) })
	start := time.Now()
	if _, err := postToAgent(silent, "/", nil, 200*time.Millisecond); kind(err) != timedOut {
		t.Errorf("silent agent: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	hangUp := serve(t, func(net.Conn, []byte) {})
	if _, err := postToAgent(hangUp, "/", nil, time.Second); kind(err) != connectionLost {
		t.Errorf("hang-up: %v", err)
	}
	garbled := serve(t, func(c net.Conn, _ []byte) { io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n") })
	if _, err := postToAgent(garbled, "/", nil, time.Second); kind(err) != malformedResponse {
		t.Errorf("garbled: %v", err)
	}
}
