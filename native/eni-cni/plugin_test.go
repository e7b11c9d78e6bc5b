package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	testConf   = `{"cniVersion":"1.0.0","name":"eni","type":"eni-cni","agentSocket":"/run/test/agent.sock","timeoutMs":1234}`
	testResult = `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],"ips":[{"address":"10.0.0.5/32","interface":0}]}`
)

var testEnv = map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/p", "CNI_IFNAME": "eth0", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web", "CNI_PATH": "/opt/cni/bin"}

type call struct {
	socket, path string
	body         map[string]any
	timeout      time.Duration
}

type recorded struct {
	outcome
	calls    []call
	warnings []string
}

// with returns a copy of base with changes; an empty value removes the variable.
func with(base map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// answer is what the fake agent does: a response, or a failure kind.
type answer struct {
	res  agentResponse
	fail *agentCallError
}

var okAnswer = answer{res: agentResponse{200, []byte(testResult)}}

func failWith(kind failureKind) answer { return answer{fail: &agentCallError{kind, "simulated"}} }

func runWith(t *testing.T, env map[string]string, stdin string, stdinErr error, a answer) recorded {
	t.Helper()
	var r recorded
	r.outcome = runPlugin(pluginIO{
		env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		readStdin: func() ([]byte, error) {
			return []byte(stdin), stdinErr
		},
		call: func(socket, path string, body []byte, timeout time.Duration) (agentResponse, error) {
			var decoded map[string]any
			if err := json.Unmarshal(body, &decoded); err != nil {
				t.Fatalf("the request body is not JSON: %v: %s", err, body)
			}
			r.calls = append(r.calls, call{socket, path, decoded, timeout})
			if a.fail != nil {
				return agentResponse{}, a.fail
			}
			return a.res, nil
		},
		warn: func(m string) { r.warnings = append(r.warnings, m) },
	})
	return r
}

func errorOf(t *testing.T, out outcome) errorObject {
	t.Helper()
	if out.exitCode == 0 {
		t.Fatalf("expected a failure, got success: %s", out.stdout)
	}
	var e errorObject
	if err := json.Unmarshal(out.stdout, &e); err != nil {
		t.Fatalf("stdout is not an error object: %v: %s", err, out.stdout)
	}
	return e
}

func TestAddForwardsEnvAndConfigAndPrintsTheResult(t *testing.T) {
	r := runWith(t, testEnv, testConf, nil, okAnswer)
	if r.exitCode != 0 || string(r.stdout) != testResult {
		t.Fatalf("got %d %s", r.exitCode, r.stdout)
	}
	if len(r.calls) != 1 {
		t.Fatalf("%d calls", len(r.calls))
	}
	c := r.calls[0]
	if c.socket != "/run/test/agent.sock" || c.path != "/v1/cni/add" || c.timeout != 1234*time.Millisecond {
		t.Errorf("call %+v", c)
	}
	var conf map[string]any
	_ = json.Unmarshal([]byte(testConf), &conf)
	want := map[string]any{
		"protocol": float64(1),
		// CNI_PATH is not forwarded: eni-cni delegates to no plugin.
		"env":    map[string]any{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/p", "CNI_IFNAME": "eth0", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web"},
		"config": conf,
	}
	if !reflect.DeepEqual(c.body, want) {
		t.Errorf("body %v, want %v", c.body, want)
	}
}

func TestDelAndCheckPrintNothingOnSuccess(t *testing.T) {
	check := strings.Replace(testConf, `}`, `,"prevResult":`+testResult+`}`, 1)
	for command, conf := range map[string]string{"DEL": testConf, "CHECK": check} {
		r := runWith(t, with(testEnv, map[string]string{"CNI_COMMAND": command}), conf, nil, answer{res: agentResponse{200, nil}})
		if r.exitCode != 0 || len(r.stdout) != 0 {
			t.Errorf("%s: %d %q", command, r.exitCode, r.stdout)
		}
		if r.calls[0].path != "/v1/cni/"+strings.ToLower(command) {
			t.Errorf("%s went to %s", command, r.calls[0].path)
		}
	}
}

func TestBadInputNeverReachesTheAgent(t *testing.T) {
	cases := []struct {
		env      map[string]string
		stdin    string
		stdinErr error
		code     int
	}{
		{with(testEnv, map[string]string{"CNI_CONTAINERID": ""}), testConf, nil, codeInvalidEnvironment},
		{with(testEnv, map[string]string{"CNI_ARGS": "garbage"}), testConf, nil, codeInvalidEnvironment},
		{with(testEnv, map[string]string{"CNI_COMMAND": ""}), testConf, nil, codeInvalidEnvironment},
		{testEnv, `{"cniVersion":`, nil, codeDecodingFailure},
		{testEnv, testConf + ` {}`, nil, codeDecodingFailure},
		{testEnv, `[]`, nil, codeDecodingFailure},
		{testEnv, "", errors.New("EIO"), codeIOFailure},
		{testEnv, strings.Replace(testConf, "1.0.0", "0.3.1", 1), nil, codeIncompatibleVersion},
		{testEnv, strings.Replace(testConf, `"name":"eni",`, "", 1), nil, codeInvalidNetworkConfig},
		{testEnv, strings.Replace(testConf, `"type":"eni-cni"`, `"type":"bridge"`, 1), nil, codeInvalidNetworkConfig},
		{testEnv, strings.Replace(testConf, `}`, `,"ipam":{"type":"host-local"}}`, 1), nil, codeUnsupportedField},
		{testEnv, strings.Replace(testConf, `}`, `,"prevResult":`+testResult+`}`, 1), nil, codeUnsupportedField},
	}
	for _, c := range cases {
		r := runWith(t, c.env, c.stdin, c.stdinErr, okAnswer)
		if e := errorOf(t, r.outcome); e.Code != c.code {
			t.Errorf("%q: code %d, want %d (%s)", c.stdin, e.Code, c.code, e.Msg)
		}
		if len(r.calls) != 0 {
			t.Errorf("%q reached the agent", c.stdin)
		}
	}
	// The error carries the configuration's version when it has one.
	if v := errorOf(t, runWith(t, testEnv, strings.Replace(testConf, "1.0.0", "0.3.1", 1), nil, okAnswer).outcome).CNIVersion; v != "0.3.1" {
		t.Errorf("version %s", v)
	}
	if v := errorOf(t, runWith(t, with(testEnv, map[string]string{"CNI_ARGS": "x"}), testConf, nil, okAnswer).outcome).CNIVersion; v != "1.1.0" {
		t.Errorf("version %s", v)
	}
}

func TestVersionAnswersWithoutTheAgent(t *testing.T) {
	env := map[string]string{"CNI_COMMAND": "VERSION"}
	r := runWith(t, env, `{"cniVersion":"0.4.0"}`, nil, okAnswer)
	if string(r.stdout) != `{"cniVersion":"0.4.0","supportedVersions":["1.0.0","1.1.0"]}` || len(r.calls) != 0 {
		t.Errorf("%s, %d calls", r.stdout, len(r.calls))
	}
	if r := runWith(t, env, "", nil, okAnswer); !strings.Contains(string(r.stdout), `"cniVersion":"1.1.0"`) {
		t.Errorf("no stdin: %s", r.stdout)
	}
}

func TestAgentErrorsPassThroughAndGarbageIs101(t *testing.T) {
	r := runWith(t, testEnv, testConf, nil, answer{res: agentResponse{503, []byte(`{"code":11,"msg":"address not planned yet","details":"pod default/web"}`)}})
	if e := errorOf(t, r.outcome); e != (errorObject{"1.0.0", 11, "address not planned yet", "pod default/web"}) {
		t.Errorf("%+v", e)
	}
	for _, a := range []answer{{res: agentResponse{500, []byte("<html>")}}, {res: agentResponse{500, []byte(`{"code":"11"}`)}}, {res: agentResponse{200, []byte("not json")}}, failWith(malformedResponse)} {
		if e := errorOf(t, runWith(t, testEnv, testConf, nil, a).outcome); e.Code != codeAgentProtocol {
			t.Errorf("%+v: code %d", a, e.Code)
		}
	}
}

func TestAgentDown(t *testing.T) {
	v11 := strings.Replace(testConf, "1.0.0", "1.1.0", 1)
	prev := strings.Replace(testConf, `}`, `,"prevResult":`+testResult+`}`, 1)
	down := failWith(unreachable)
	if e := errorOf(t, runWith(t, testEnv, testConf, nil, down).outcome); e.Code != 11 || e.Msg != "the eni-operator agent is not running" {
		t.Errorf("ADD: %+v", e)
	}
	if e := errorOf(t, runWith(t, with(testEnv, map[string]string{"CNI_COMMAND": "CHECK"}), prev, nil, down).outcome); e.Code != 11 {
		t.Errorf("CHECK: %+v", e)
	}
	if e := errorOf(t, runWith(t, map[string]string{"CNI_COMMAND": "STATUS"}, v11, nil, down).outcome); e.Code != codePluginNotAvailable {
		t.Errorf("STATUS: %+v", e)
	}
	for _, c := range []struct {
		env  map[string]string
		conf string
	}{{with(testEnv, map[string]string{"CNI_COMMAND": "DEL"}), testConf}, {map[string]string{"CNI_COMMAND": "GC"}, v11}} {
		r := runWith(t, c.env, c.conf, nil, down)
		if r.exitCode != 0 || len(r.stdout) != 0 || !strings.Contains(strings.Join(r.warnings, ""), "succeeded without the agent") {
			t.Errorf("%v: %d %q %v", c.env["CNI_COMMAND"], r.exitCode, r.stdout, r.warnings)
		}
	}
	// A DEL the agent took but did not finish is retried by the runtime.
	for _, kind := range []failureKind{timedOut, connectionLost} {
		if e := errorOf(t, runWith(t, with(testEnv, map[string]string{"CNI_COMMAND": "DEL"}), testConf, nil, failWith(kind)).outcome); e.Code != codeTryAgainLater {
			t.Errorf("DEL, kind %d: %+v", kind, e)
		}
	}
}
