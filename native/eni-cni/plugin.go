package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The plugin's logic: validate what the runtime passed, forward it to the
// agent, and turn the answer into what the runtime reads on stdout.
//
// When the agent cannot be reached or does not answer (src/cni/README.md):
//   ADD, CHECK  -> 11 (try again later): the runtime retries.
//   STATUS      -> 50 (plugin not available).
//   DEL, GC     -> success with a warning on stderr when nothing listens on the
//                  socket: DEL must not block pod deletion forever (e.g. after
//                  an uninstall); the agent is level-triggered and removes on
//                  start whatever no plan references. A DEL the agent took but
//                  did not finish (timeout, connection lost) fails with 11.

// protocolVersion of the plugin <-> agent protocol (src/cni/protocol.ts).
const protocolVersion = 1

type pluginIO struct {
	env environment
	// readStdin returns the whole of stdin.
	readStdin func() ([]byte, error)
	call      agentCall
	// warn writes a line to stderr (the runtime logs it).
	warn func(string)
}

type outcome struct {
	exitCode int
	// stdout: a result, an error object, or nothing for a silent success.
	stdout []byte
}

func ok(stdout []byte) outcome { return outcome{0, stdout} }

func failure(cniVersion string, err *cniError) outcome {
	return outcome{1, err.object(cniVersion)}
}

func runPlugin(io pluginIO) (out outcome) {
	var conf object
	defer func() {
		// A bug in the plugin: still answer in the protocol's terms.
		if r := recover(); r != nil {
			out = failure(versionForErrors(conf), newError(codeAgentInternal, "eni-cni internal error", fmt.Sprint(r)))
		}
	}()
	res, err := run(io, &conf)
	if err != nil {
		var ce *cniError
		if !errors.As(err, &ce) {
			ce = newError(codeAgentInternal, "eni-cni internal error", err.Error())
		}
		return failure(versionForErrors(conf), ce)
	}
	return res
}

func run(io pluginIO, decoded *object) (outcome, error) {
	command, err := parseCommand(io.env)
	if err != nil {
		return outcome{}, err
	}
	text, err := io.readStdin()
	if err != nil {
		return outcome{}, newError(codeIOFailure, "cannot read the network configuration from stdin", err.Error())
	}
	if command == "VERSION" {
		return ok(versionAnswer(text)), nil
	}
	if err := checkEnv(io.env, command); err != nil {
		return outcome{}, err
	}
	conf, err := decodeConfig(text)
	if err != nil {
		return outcome{}, err
	}
	*decoded = conf
	nc, err := parseNetConf(conf, command, io.warn)
	if err != nil {
		return outcome{}, err
	}
	return forward(io, command, text, nc)
}

// versionAnswer echoes the cniVersion it was given (spec §5), whatever else stdin holds.
func versionAnswer(text []byte) []byte {
	version := newestVersion
	var conf struct {
		CNIVersion any `json:"cniVersion"`
	}
	if json.Unmarshal(text, &conf) == nil {
		if v, ok := conf.CNIVersion.(string); ok && v != "" {
			version = v
		}
	}
	return marshal(struct {
		CNIVersion        string   `json:"cniVersion"`
		SupportedVersions []string `json:"supportedVersions"`
	}{version, supportedVersions})
}

// wireRequest is the body the agent reads: the CNI_* variables it uses and the configuration as given.
func wireRequest(env environment, config []byte) ([]byte, error) {
	forwarded := map[string]string{}
	for _, k := range forwardedEnv {
		if v, set := env(k); set {
			forwarded[k] = v
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, config); err != nil {
		return nil, err
	}
	body := fmt.Appendf(nil, `{"protocol":%d,"env":`, protocolVersion)
	body = append(body, marshal(forwarded)...)
	body = append(body, `,"config":`...)
	body = append(body, compact.Bytes()...)
	return append(body, '}'), nil
}

var unavailable = map[failureKind]string{
	unreachable:    "the eni-operator agent is not running",
	timedOut:       "the eni-operator agent did not answer in time",
	connectionLost: "lost the connection to the eni-operator agent",
}

func forward(io pluginIO, command string, config []byte, nc netConf) (outcome, error) {
	body, err := wireRequest(io.env, config)
	if err != nil {
		return outcome{}, err
	}
	res, err := io.call(nc.agentSocket, "/v1/cni/"+strings.ToLower(command), body, time.Duration(nc.timeoutMs)*time.Millisecond)
	if err != nil {
		var ae *agentCallError
		if !errors.As(err, &ae) {
			return outcome{}, err
		}
		switch {
		case ae.kind == malformedResponse:
			return outcome{}, newError(codeAgentProtocol, "unreadable answer from the eni-operator agent", ae.msg)
		case command == "STATUS":
			return outcome{}, newError(codePluginNotAvailable, "the eni-operator agent is not available", ae.msg)
		case ae.kind == unreachable && (command == "DEL" || command == "GC"):
			io.warn(fmt.Sprintf("eni-cni: %s succeeded without the agent (%s); the agent cleans up when it starts", command, ae.msg))
			return ok(nil), nil
		}
		return outcome{}, newError(codeTryAgainLater, unavailable[ae.kind], ae.msg)
	}
	if res.status == 200 {
		if command != "ADD" {
			return ok(nil), nil
		}
		if !bytes.HasPrefix(res.body, []byte("{")) {
			return outcome{}, newError(codeAgentProtocol, "the agent answered ADD without a result", truncate(string(res.body), 200))
		}
		return ok(res.body), nil
	}
	return outcome{1, agentError(res, nc.cniVersion)}, nil
}

// agentError: a non-200 answer carries {code, msg, details}; anything else is a protocol error.
func agentError(res agentResponse, cniVersion string) []byte {
	var e struct {
		Code    any `json:"code"`
		Msg     any `json:"msg"`
		Details any `json:"details"`
	}
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.UseNumber()
	if dec.Decode(&e) == nil {
		code, isInt := integer(e.Code)
		msg, isString := e.Msg.(string)
		if isInt && code > 0 && code <= 1<<31 && isString {
			details, _ := e.Details.(string)
			return newError(int(code), msg, details).object(cniVersion)
		}
	}
	return newError(codeAgentProtocol, fmt.Sprintf("unexpected answer from the eni-operator agent (HTTP %d)", res.status), truncate(string(res.body), 500)).object(cniVersion)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
