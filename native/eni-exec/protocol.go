package main

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// request is one line on stdin. Op says what to do:
//
//	"exec" (or absent)  start a command and wait for it (File, Args, Stdin, TimeoutMs)
//	"read"              read the namespace's links, addresses, routes, rules,
//	                    neighbours, proxy neighbours and IPv4 settings
//	"apply"             run Steps in order through netlink; the first failure
//	                    stops them unless KeepGoing
//	"probe"             can this kernel create a link of Kind ("ipvlan", "macvlan")?
//
// Netns is the nsfs path (/run/netns/x, /proc/<pid>/ns/net) to do it in; empty means ours.
type request struct {
	ID    int64  `json:"id"`
	Op    string `json:"op"`
	Netns string `json:"netns"`

	File      string   `json:"file"`
	Args      []string `json:"args"`
	Stdin     string   `json:"stdin"`
	TimeoutMs int64    `json:"timeoutMs"`

	Steps     []step `json:"steps"`
	KeepGoing bool   `json:"keepGoing"`

	Kind string `json:"kind"`
}

// response is one line on stdout: Error alone when the request could not be
// carried out at all (a bad request, a namespace that cannot be entered, a
// command that cannot be started), else the part for its op.
type response struct {
	ID       int64        `json:"id"`
	Error    string       `json:"error,omitempty"`
	Exec     *execResult  `json:"exec,omitempty"`
	Snapshot *snapshot    `json:"snapshot,omitempty"`
	Applied  *applied     `json:"applied,omitempty"`
	Probe    *probeResult `json:"probe,omitempty"`
}

type execResult struct {
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// applied lists the steps that failed (all of them with KeepGoing, else the first).
type applied struct {
	Failures []stepFailure `json:"failures"`
}

type probeResult struct {
	Supported bool   `json:"supported"`
	Detail    string `json:"detail"`
}

func failed(id int64, msg string) response {
	return response{ID: id, Error: msg}
}

// responder writes whole response lines; requests finish concurrently, and an
// interleaved write would corrupt both lines.
type responder struct {
	mu  sync.Mutex
	out io.Writer
}

func (r *responder) send(resp response) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Output is data for a program, not HTML: keep <, > and & as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.out.Write(buf.Bytes())
	return err
}

// parseRequest decodes one line. On a type error json.Unmarshal still fills
// the fields it could, so the caller usually gets the id back to answer.
func parseRequest(line []byte) (request, error) {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return req, err
	}
	return req, validate(req)
}
