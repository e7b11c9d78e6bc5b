package main

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// request is one line on stdin.
type request struct {
	ID    int64    `json:"id"`
	File  string   `json:"file"`
	Args  []string `json:"args"`
	Stdin string   `json:"stdin"`
	// Netns is an nsfs path (/run/netns/x, /proc/<pid>/ns/net); empty means ours.
	Netns     string `json:"netns"`
	TimeoutMs int64  `json:"timeoutMs"`
}

// response is one line on stdout. Error is set only when the command could
// not be started; Code is then -1.
type response struct {
	ID     int64  `json:"id"`
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Error  string `json:"error,omitempty"`
}

func failed(id int64, msg string) response {
	return response{ID: id, Code: -1, Error: msg}
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
