package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A minimal HTTP/1.1 client over the agent's unix socket, for the plugin's one
// request per run: net/http would more than double the binary and its start-up.

type failureKind int

const (
	unreachable failureKind = iota // nothing listens on the socket: the agent is not running
	timedOut
	connectionLost
	malformedResponse
)

type agentCallError struct {
	kind failureKind
	msg  string
}

func (e *agentCallError) Error() string { return e.msg }

type agentResponse struct {
	status int
	body   []byte
}

// agentCall sends one request to the agent; postToAgent in production.
type agentCall func(socket, path string, body []byte, timeout time.Duration) (agentResponse, error)

func postToAgent(socket, path string, body []byte, timeout time.Duration) (agentResponse, error) {
	deadline := time.Now().Add(timeout)
	late := func() error {
		return &agentCallError{timedOut, fmt.Sprintf("no answer from the agent at %s within %d ms", socket, timeout.Milliseconds())}
	}
	conn, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		if isTimeout(err) {
			return agentResponse{}, late()
		}
		if notListening(err) {
			return agentResponse{}, &agentCallError{unreachable, fmt.Sprintf("connect %s: %s", socket, errnoName(err))}
		}
		return agentResponse{}, &agentCallError{connectionLost, fmt.Sprintf("%s: %v", socket, err)}
	}
	// Closing it is how the agent learns that we left (on a timeout, its handler is aborted).
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return agentResponse{}, &agentCallError{connectionLost, fmt.Sprintf("%s: %v", socket, err)}
	}
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: eni-agent\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", path, len(body))
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		if isTimeout(err) {
			return agentResponse{}, late()
		}
		return agentResponse{}, &agentCallError{connectionLost, fmt.Sprintf("%s: %v", socket, err)}
	}
	var raw []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := conn.Read(buf)
		raw = append(raw, buf[:n]...)
		// Done once the body is whole: do not wait for the agent to close the connection.
		if res, ok, perr := completeResponse(raw); ok || perr != nil {
			return res, perr
		}
		if errors.Is(err, io.EOF) {
			return parseResponse(raw)
		}
		if err != nil {
			if isTimeout(err) {
				return agentResponse{}, late()
			}
			return agentResponse{}, &agentCallError{connectionLost, fmt.Sprintf("%s: %v", socket, err)}
		}
	}
}

// notListening: connect(2) errors meaning nothing listens on the path.
func notListening(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTDIR)
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func errnoName(err error) string {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return "ENOENT"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ECONNREFUSED"
	case errors.Is(err, syscall.ENOTDIR):
		return "ENOTDIR"
	}
	return err.Error()
}

var headerEnd = []byte("\r\n\r\n")

// completeResponse parses raw if it already holds a whole response with a
// Content-Length body; ok is false while more is needed (or until close).
func completeResponse(raw []byte) (agentResponse, bool, error) {
	end := bytes.Index(raw, headerEnd)
	if end < 0 {
		return agentResponse{}, false, nil
	}
	length, found := header(raw[:end+2], "content-length")
	if !found {
		return agentResponse{}, false, nil
	}
	n, err := strconv.Atoi(length)
	if err != nil || len(raw)-end-4 < n {
		return agentResponse{}, false, nil
	}
	res, err := parseResponse(raw)
	return res, err == nil, err
}

// header finds a header's value in the head (case-insensitive name).
func header(head []byte, name string) (string, bool) {
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		colon := strings.IndexByte(line, ':')
		if colon > 0 && strings.EqualFold(strings.TrimSpace(line[:colon]), name) {
			return strings.TrimSpace(line[colon+1:]), true
		}
	}
	return "", false
}

// parseResponse reads a whole HTTP/1.x response (read until the server closed the connection).
func parseResponse(raw []byte) (agentResponse, error) {
	end := bytes.Index(raw, headerEnd)
	if end < 0 {
		if len(raw) == 0 {
			return agentResponse{}, &agentCallError{connectionLost, "the agent closed the connection without answering"}
		}
		return agentResponse{}, &agentCallError{malformedResponse, "incomplete HTTP response from the agent"}
	}
	head := raw[:end]
	statusLine, _, _ := strings.Cut(string(head), "\r\n")
	status, ok := parseStatusLine(statusLine)
	if !ok {
		return agentResponse{}, &agentCallError{malformedResponse, "not an HTTP response: " + jsString(statusLine)}
	}
	body := raw[end+4:]
	if te, _ := header(head, "transfer-encoding"); strings.EqualFold(te, "chunked") {
		var err error
		if body, err = dechunk(body); err != nil {
			return agentResponse{}, err
		}
	} else if cl, found := header(head, "content-length"); found {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || len(body) < n {
			return agentResponse{}, &agentCallError{connectionLost, fmt.Sprintf("the agent's answer was cut short (%d of %s bytes)", len(body), cl)}
		}
		body = body[:n]
	}
	return agentResponse{status: status, body: body}, nil
}

// parseStatusLine: "HTTP/1.0 200 ..." or "HTTP/1.1 200 ...".
func parseStatusLine(line string) (int, bool) {
	if len(line) < 12 || (line[:9] != "HTTP/1.1 " && line[:9] != "HTTP/1.0 ") {
		return 0, false
	}
	code, err := strconv.Atoi(line[9:12])
	return code, err == nil && (len(line) == 12 || line[12] == ' ')
}

func dechunk(data []byte) ([]byte, error) {
	cut := &agentCallError{connectionLost, "the agent's chunked answer was cut short"}
	var out []byte
	for {
		lineEnd := bytes.Index(data, []byte("\r\n"))
		if lineEnd < 0 {
			return nil, cut
		}
		sizeText, _, _ := strings.Cut(string(data[:lineEnd]), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil || size < 0 {
			return nil, &agentCallError{malformedResponse, "bad chunk size in the agent's answer"}
		}
		if size == 0 {
			return out, nil
		}
		start := lineEnd + 2
		if int64(len(data)-start) < size+2 {
			return nil, cut
		}
		out = append(out, data[start:start+int(size)]...)
		data = data[start+int(size)+2:]
	}
}
