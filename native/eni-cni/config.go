package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The plugin configuration on stdin (spec §1 and §3), validated for one
// command with the rules of src/cni/config.ts, which the agent applies again.
// Codes: 6 not JSON / not an object; 1 no or unsupported cniVersion; 7 bad
// name, type or our own fields; 2 a field eni-cni deliberately does not
// support (ipam: the agent is the IPAM; prevResult on ADD: eni-cni creates the
// interface, so it is first in the chain). Unknown keys are ignored.

var supportedVersions = []string{"1.0.0", "1.1.0"}

const (
	newestVersion      = "1.1.0"
	pluginType         = "eni-cni"
	defaultAgentSocket = "/run/eni-operator/agent.sock"
	defaultTimeoutMs   = 60_000
	maxTimeoutMs       = 600_000
	// sun_path is 108 bytes including the terminating NUL.
	maxSocketPath = 107
)

// netConf is what the plugin itself needs from a valid configuration.
type netConf struct {
	cniVersion  string
	agentSocket string
	timeoutMs   int
}

type object = map[string]any

// decodeConfig turns stdin into a JSON object (code 6 otherwise). Numbers stay
// json.Number, so integer checks see what was written.
func decodeConfig(text []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		// JSON.parse refuses anything after the value; so do we.
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		details := err.Error()
		if len(bytes.TrimSpace(text)) == 0 {
			details = "stdin was empty"
		}
		return nil, newError(codeDecodingFailure, "network configuration on stdin is not JSON", details)
	}
	conf, ok := v.(object)
	if !ok {
		return nil, newError(codeDecodingFailure, "network configuration on stdin is not a JSON object", "")
	}
	return conf, nil
}

// versionForErrors is the version an error carries: the configuration's if it names one, else the newest we speak.
func versionForErrors(conf object) string {
	if v, ok := conf["cniVersion"].(string); ok && isSemver(v) {
		return v
	}
	return newestVersion
}

func isSemver(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func parseVersion(conf object, command string) (string, error) {
	supported := "eni-cni supports " + strings.Join(supportedVersions, ", ")
	raw, present := conf["cniVersion"]
	if !present {
		return "", newError(codeIncompatibleVersion, "incompatible CNI version", "no cniVersion (which means 0.1.0); "+supported)
	}
	v, ok := raw.(string)
	if !ok {
		return "", newError(codeDecodingFailure, "cniVersion must be a string", jsValue(raw))
	}
	if v != "1.0.0" && v != "1.1.0" {
		return "", newError(codeIncompatibleVersion, "incompatible CNI version", "cniVersion "+v+"; "+supported)
	}
	if (command == "STATUS" || command == "GC") && v == "1.0.0" {
		return "", newError(codeIncompatibleVersion, command+" needs cniVersion 1.1.0", "the configuration says "+v)
	}
	return v, nil
}

// parseNetConf validates a decoded configuration for command. warn hears what
// DEL tolerates instead of failing (a malformed prevResult: DEL is best-effort).
func parseNetConf(conf object, command string, warn func(string)) (netConf, error) {
	var out netConf
	version, err := parseVersion(conf, command)
	if err != nil {
		return out, err
	}
	out.cniVersion = version
	if err := checkNameAndType(conf); err != nil {
		return out, err
	}
	if ipam, present := conf["ipam"]; present {
		return out, newError(codeUnsupportedField, "unsupported field ipam="+jsValue(ipam), "eni-cni takes addresses from the eni-operator agent; remove the ipam section")
	}
	if out.agentSocket, err = agentSocket(conf); err != nil {
		return out, err
	}
	if out.timeoutMs, err = timeoutMs(conf); err != nil {
		return out, err
	}
	if err := checkOptional(conf); err != nil {
		return out, err
	}
	if err := checkPrevResult(conf, command, warn); err != nil {
		return out, err
	}
	if command == "GC" {
		if err := checkValidAttachments(conf); err != nil {
			return out, err
		}
	}
	return out, nil
}

func checkNameAndType(conf object) error {
	name, present := conf["name"]
	if !present || name == "" {
		return invalidConfig("missing network name", "")
	}
	if s, ok := name.(string); !ok || !isValidName(s) {
		return invalidConfig("invalid network name", jsValue(name)+`: must start with a letter or digit, then letters, digits, "_", "." or "-"`)
	}
	if t, ok := conf["type"].(string); !ok || t != pluginType {
		return invalidConfig(`type must be "eni-cni"`, "got "+jsValueOrUndefined(conf, "type"))
	}
	return nil
}

// agentSocket: absent or null means the default (JavaScript's ??).
func agentSocket(conf object) (string, error) {
	raw := conf["agentSocket"]
	if raw == nil {
		return defaultAgentSocket, nil
	}
	s, ok := raw.(string)
	if !ok || !strings.HasPrefix(s, "/") || len(s) > maxSocketPath {
		return "", invalidConfig("agentSocket must be an absolute path of at most 107 bytes", jsValue(raw))
	}
	return s, nil
}

func timeoutMs(conf object) (int, error) {
	raw := conf["timeoutMs"]
	if raw == nil {
		return defaultTimeoutMs, nil
	}
	n, ok := integer(raw)
	if !ok || n < 1 || n > maxTimeoutMs {
		return 0, invalidConfig(fmt.Sprintf("timeoutMs must be an integer from 1 to %d", maxTimeoutMs), jsValue(raw))
	}
	return int(n), nil
}

// checkOptional: the well-known fields the agent reads must have their shape.
func checkOptional(conf object) error {
	if dns, present := conf["dns"]; present {
		if err := checkDNS(dns, "dns"); err != nil {
			return invalidConfig("invalid dns", err.Error())
		}
	}
	for _, key := range []string{"runtimeConfig", "args"} {
		if v, present := conf[key]; present {
			if _, ok := v.(object); !ok {
				return invalidConfig(key+" must be an object", jsValue(v))
			}
		}
	}
	return nil
}

func checkPrevResult(conf object, command string, warn func(string)) error {
	prev, present := conf["prevResult"]
	if !present {
		if command == "CHECK" {
			return invalidConfig("CHECK needs prevResult", "the runtime must pass the result of the ADD it checks")
		}
		return nil
	}
	if command == "ADD" {
		return newError(codeUnsupportedField, "unsupported field prevResult="+jsValue(prev), "eni-cni creates the pod interface, so it must be the first plugin of the chain")
	}
	if err := checkResult(prev, "prevResult"); err != nil {
		if command != "DEL" {
			return invalidConfig("invalid prevResult", err.Error())
		}
		warn("ignoring a malformed prevResult on DEL: " + err.Error())
	}
	return nil
}

// checkValidAttachments reads GC's list under either spelling (libcni also sends the pre-1.1 one).
func checkValidAttachments(conf object) error {
	v := conf["cni.dev/valid-attachments"]
	if v == nil {
		var present bool
		v, present = conf["cni.dev/attachments"]
		if !present {
			return nil
		}
	}
	list, ok := v.([]any)
	if !ok {
		return invalidConfig("cni.dev/valid-attachments must be a list", "")
	}
	for i, a := range list {
		at := fmt.Sprintf("cni.dev/valid-attachments[%d]", i)
		o, _ := a.(object)
		id, idOK := o["containerID"].(string)
		ifName, ifOK := o["ifname"].(string)
		if o == nil || !idOK || !ifOK {
			return invalidConfig(at+" must be {containerID, ifname}", jsValue(a))
		}
		if !isValidName(id) || interfaceNameProblem(ifName) != "" {
			return invalidConfig(at+" names an invalid attachment", jsValue(a))
		}
	}
	return nil
}

// integer is JavaScript's typeof n === 'number' && Number.isInteger(n).
func integer(v any) (float64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, !math.IsInf(f, 0) && f == math.Trunc(f)
}

// jsValue renders a decoded value for a message, as JSON.stringify would.
func jsValue(v any) string {
	return string(marshal(v))
}

func jsValueOrUndefined(o object, key string) string {
	if v, present := o[key]; present {
		return jsValue(v)
	}
	return "undefined"
}
