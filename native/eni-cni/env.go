package main

import (
	"fmt"
	"strings"
)

// The CNI_* environment (spec §2 "Parameters"), validated with the rules of
// src/cni/env.ts, which the agent applies again. Every failure is code 4 and
// names the variable.

var commands = []string{"ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION"}

// forwardedEnv are the variables the agent uses (CNI_PATH is not: eni-cni delegates to no plugin).
var forwardedEnv = []string{"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"}

// knownArgs are the CNI_ARGS keys Kubernetes runtimes pass; others need IgnoreUnknown=1.
var knownArgs = map[string]bool{"IgnoreUnknown": true, "K8S_POD_NAMESPACE": true, "K8S_POD_NAME": true, "K8S_POD_UID": true, "K8S_POD_INFRA_CONTAINER_ID": true}

const ifNameMax = 15 // IFNAMSIZ - 1

type environment func(key string) (string, bool)

func (env environment) get(key string) string {
	v, _ := env(key)
	return v
}

func invalidEnv(variable, msg, details string) *cniError {
	return newError(codeInvalidEnvironment, variable+": "+msg, details)
}

func parseCommand(env environment) (string, error) {
	command := env.get("CNI_COMMAND")
	oneOf := "one of " + strings.Join(commands, ", ")
	if command == "" {
		return "", invalidEnv("CNI_COMMAND", "missing", oneOf)
	}
	for _, c := range commands {
		if c == command {
			return command, nil
		}
	}
	return "", invalidEnv("CNI_COMMAND", "unknown command "+jsString(command), oneOf)
}

// checkEnv validates the per-attachment variables of ADD, DEL and CHECK.
func checkEnv(env environment, command string) error {
	if command != "ADD" && command != "DEL" && command != "CHECK" {
		return nil
	}
	required := []string{"CNI_CONTAINERID", "CNI_IFNAME"}
	if command != "DEL" {
		required = append(required, "CNI_NETNS")
	}
	var missing []string
	for _, v := range required {
		if env.get(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return newError(codeInvalidEnvironment, "required environment variable(s) missing: "+strings.Join(missing, ", "), "")
	}
	if !isValidName(env.get("CNI_CONTAINERID")) {
		return invalidEnv("CNI_CONTAINERID", "invalid characters", `must start with a letter or digit, then letters, digits, "_", "." or "-"`)
	}
	ifName := env.get("CNI_IFNAME")
	if problem := interfaceNameProblem(ifName); problem != "" {
		return invalidEnv("CNI_IFNAME", jsString(ifName)+" "+problem, "")
	}
	if netns := env.get("CNI_NETNS"); netns != "" && !strings.HasPrefix(netns, "/") {
		return invalidEnv("CNI_NETNS", jsString(netns)+" is not an absolute path", "")
	}
	args, err := parseCniArgs(env.get("CNI_ARGS"))
	if err != nil {
		return err
	}
	return checkPod(args, command == "ADD")
}

// isValidName is the spec's rule for container IDs and network names: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$.
func isValidName(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// interfaceNameProblem: Linux interface names are 1-15 bytes, not "." or "..", no "/", ":" or whitespace.
func interfaceNameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > ifNameMax:
		return fmt.Sprintf("is longer than %d bytes", ifNameMax)
	case name == "." || name == "..":
		return `must not be "." or ".."`
	case strings.ContainsAny(name, "/:") || containsJSSpace(name):
		return `must not contain "/", ":" or whitespace`
	}
	return ""
}

// containsJSSpace matches JavaScript's \s (what the agent's check uses).
func containsJSSpace(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
			return true
		}
		if r >= 0x2000 && r <= 0x200a {
			return true
		}
	}
	return false
}

// parseCniArgs reads "K1=V1;K2=V2": empty segments are tolerated, a value may hold "=".
func parseCniArgs(raw string) (map[string]string, error) {
	args := map[string]string{}
	var order []string // the message lists unknown keys as given
	for _, pair := range strings.Split(raw, ";") {
		if pair == "" {
			continue
		}
		eq := strings.IndexByte(pair, '=')
		if eq <= 0 {
			return nil, invalidEnv("CNI_ARGS", "malformed pair "+jsString(pair), `expected KEY=VALUE pairs separated by ";"`)
		}
		key := pair[:eq]
		if !isArgKey(key) {
			return nil, invalidEnv("CNI_ARGS", "malformed key "+jsString(key), "keys are alphanumeric")
		}
		if _, dup := args[key]; dup {
			return nil, invalidEnv("CNI_ARGS", "duplicate key "+key, "")
		}
		args[key] = pair[eq+1:]
		order = append(order, key)
	}
	if ignore := strings.ToLower(args["IgnoreUnknown"]); ignore != "1" && ignore != "true" {
		var unknown []string
		for _, k := range order {
			if !knownArgs[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			return nil, invalidEnv("CNI_ARGS", "unknown key(s) "+strings.Join(unknown, ", "), "set IgnoreUnknown=1 to ignore keys eni-cni does not use")
		}
	}
	return args, nil
}

func isArgKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return k != ""
}

func checkPod(args map[string]string, required bool) error {
	namespace, name, uid := args["K8S_POD_NAMESPACE"], args["K8S_POD_NAME"], args["K8S_POD_UID"]
	if required && (namespace == "" || name == "") {
		return invalidEnv("CNI_ARGS", "K8S_POD_NAMESPACE and K8S_POD_NAME are required for ADD", "the agent finds the pod's address by its namespace/name")
	}
	if namespace != "" && (len(namespace) > 63 || !isDNSLabel(namespace)) {
		return invalidEnv("CNI_ARGS", "K8S_POD_NAMESPACE "+jsString(namespace)+" is not a valid namespace name", "")
	}
	if name != "" && (len(name) > 253 || !isDNSSubdomain(name)) {
		return invalidEnv("CNI_ARGS", "K8S_POD_NAME "+jsString(name)+" is not a valid pod name", "")
	}
	if uid != "" && !isUID(uid) {
		return invalidEnv("CNI_ARGS", "K8S_POD_UID "+jsString(uid)+" is not a valid UID", "")
	}
	return nil
}

// isDNSLabel: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
func isDNSLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isDNSSubdomain(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if !isDNSLabel(label) {
			return false
		}
	}
	return true
}

// isUID: ^[A-Za-z0-9-]{1,128}$
func isUID(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return s != ""
}

// jsString quotes like JavaScript's JSON.stringify of a string, for messages.
func jsString(s string) string {
	return string(marshal(s))
}
