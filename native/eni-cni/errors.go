package main

import (
	"bytes"
	"encoding/json"
)

// CNI error codes (spec 1.1.0 §5 "Error"); 0-99 are the spec's, 100+ ours.
// The same numbers as src/cni/errors.ts, which the agent uses.
const (
	codeIncompatibleVersion  = 1
	codeUnsupportedField     = 2
	codeInvalidEnvironment   = 4
	codeIOFailure            = 5
	codeDecodingFailure      = 6
	codeInvalidNetworkConfig = 7
	codeTryAgainLater        = 11
	codePluginNotAvailable   = 50
	codeAgentInternal        = 100
	codeAgentProtocol        = 101
)

// cniError is a failure the runtime reads as the spec's error object.
type cniError struct {
	Code    int
	Msg     string
	Details string
}

func (e *cniError) Error() string {
	if e.Details == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Details
}

func newError(code int, msg, details string) *cniError {
	return &cniError{Code: code, Msg: msg, Details: details}
}

func invalidConfig(msg, details string) *cniError {
	return newError(codeInvalidNetworkConfig, msg, details)
}

// errorObject is what goes on stdout for a failure.
type errorObject struct {
	CNIVersion string `json:"cniVersion"`
	Code       int    `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

func (e *cniError) object(cniVersion string) []byte {
	return marshal(errorObject{CNIVersion: cniVersion, Code: e.Code, Msg: e.Msg, Details: e.Details})
}

// marshal is json.Marshal without HTML escaping: the output is for programs.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own plain structs and maps of strings get here.
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
