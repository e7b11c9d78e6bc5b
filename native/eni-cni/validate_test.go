package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func codeOf(err error) int {
	var ce *cniError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

var addEnv = map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c0ffee-1", "CNI_NETNS": "/run/netns/p1", "CNI_IFNAME": "eth0", "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=0d8b2d3e-9f1a-4c5b-8e7f-123456789abc"}

func envOf(m map[string]string) environment {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnvironmentFailuresAreCode4AndNameTheVariable(t *testing.T) {
	if err := checkEnv(envOf(addEnv), "ADD"); err != nil {
		t.Fatalf("a complete ADD environment: %v", err)
	}
	cases := []struct {
		changes map[string]string
		msg     string
	}{
		{map[string]string{"CNI_CONTAINERID": ""}, "CNI_CONTAINERID"},
		{map[string]string{"CNI_CONTAINERID": "-leading-dash"}, "CNI_CONTAINERID: invalid characters"},
		{map[string]string{"CNI_CONTAINERID": "has space"}, "CNI_CONTAINERID"},
		{map[string]string{"CNI_NETNS": ""}, "CNI_NETNS"},
		{map[string]string{"CNI_NETNS": "run/netns/x"}, `CNI_NETNS: .* not an absolute path`},
		{map[string]string{"CNI_IFNAME": "a-very-long-ifname"}, `CNI_IFNAME: .* longer than 15`},
		{map[string]string{"CNI_IFNAME": "eth:0"}, "CNI_IFNAME"},
		{map[string]string{"CNI_ARGS": "K8S_POD_NAMESPACE=default"}, "K8S_POD_NAMESPACE and K8S_POD_NAME are required"},
		{map[string]string{"CNI_ARGS": "K8S_POD_NAMESPACE=Bad_NS;K8S_POD_NAME=p"}, `K8S_POD_NAMESPACE "Bad_NS"`},
		{map[string]string{"CNI_ARGS": "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=a/b"}, "K8S_POD_UID"},
		{map[string]string{"CNI_ARGS": "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=-p"}, "K8S_POD_NAME"},
	}
	for _, c := range cases {
		err := checkEnv(envOf(with(addEnv, c.changes)), "ADD")
		if codeOf(err) != codeInvalidEnvironment || !regexp.MustCompile(c.msg).MatchString(err.Error()) {
			t.Errorf("%v: %v", c.changes, err)
		}
	}
	if _, err := parseCommand(envOf(map[string]string{})); err == nil || !strings.Contains(err.Error(), "CNI_COMMAND: missing") {
		t.Errorf("no command: %v", err)
	}
	if _, err := parseCommand(envOf(map[string]string{"CNI_COMMAND": "ATTACH"})); err == nil || !strings.Contains(err.Error(), `unknown command "ATTACH"`) {
		t.Errorf("unknown command: %v", err)
	}
}

func TestDelNeedsNoNetnsNorPodAndOthersOnlyTheCommand(t *testing.T) {
	if err := checkEnv(envOf(map[string]string{"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "abc", "CNI_IFNAME": "eth0"}), "DEL"); err != nil {
		t.Errorf("DEL: %v", err)
	}
	if err := checkEnv(envOf(map[string]string{"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "abc"}), "DEL"); err == nil || !strings.Contains(err.Error(), "CNI_IFNAME") {
		t.Errorf("DEL without CNI_IFNAME: %v", err)
	}
	for _, c := range []string{"VERSION", "STATUS", "GC"} {
		if err := checkEnv(envOf(map[string]string{"CNI_COMMAND": c}), c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}

func TestCniArgs(t *testing.T) {
	for raw, want := range map[string]map[string]string{
		"":                             {},
		"K8S_POD_NAME=a;":              {"K8S_POD_NAME": "a"},
		"IgnoreUnknown=true;TOKEN=a=b": {"IgnoreUnknown": "true", "TOKEN": "a=b"},
	} {
		got, err := parseCniArgs(raw)
		if err != nil || len(got) != len(want) {
			t.Errorf("%q: %v %v", raw, got, err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s=%q", raw, k, got[k])
			}
		}
	}
	if _, err := parseCniArgs("FOO=1;BAR=2"); err == nil || !strings.Contains(err.Error(), "unknown key(s) FOO, BAR") {
		t.Errorf("unknown keys: %v", err)
	}
	for _, bad := range []string{"IgnoreUnknown=0;FOO=1", "novalue", "=x", "A B=1", "K8S_POD_NAME=a;K8S_POD_NAME=b"} {
		if _, err := parseCniArgs(bad); codeOf(err) != codeInvalidEnvironment {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestInterfaceNames(t *testing.T) {
	for _, good := range []string{"eth0", strings.Repeat("x", 15)} {
		if p := interfaceNameProblem(good); p != "" {
			t.Errorf("%q: %s", good, p)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a b", "a\tb", "a\u00a0b", strings.Repeat("x", 16), "ünïcødé-eth0"} {
		if interfaceNameProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func confError(t *testing.T, conf, command string) error {
	t.Helper()
	o, err := decodeConfig([]byte(conf))
	if err != nil {
		return err
	}
	_, err = parseNetConf(o, command, func(string) {})
	return err
}

func TestConfigCodes(t *testing.T) {
	base := `"cniVersion":"1.0.0","name":"eni","type":"eni-cni"`
	nc := func(extra string) string { return "{" + base + extra + "}" }
	cases := []struct {
		conf, command string
		code          int
	}{
		{"", "ADD", codeDecodingFailure},
		{"{", "ADD", codeDecodingFailure},
		{"null", "ADD", codeDecodingFailure},
		{`"x"`, "ADD", codeDecodingFailure},
		{`{"name":"eni","type":"eni-cni"}`, "ADD", codeIncompatibleVersion},
		{`{"cniVersion":"0.4.0","name":"eni","type":"eni-cni"}`, "ADD", codeIncompatibleVersion},
		{`{"cniVersion":1,"name":"eni","type":"eni-cni"}`, "ADD", codeDecodingFailure},
		{nc(""), "STATUS", codeIncompatibleVersion},
		{`{"cniVersion":"1.0.0","type":"eni-cni"}`, "ADD", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.0.0","name":"","type":"eni-cni"}`, "ADD", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.0.0","name":"bad/name","type":"eni-cni"}`, "ADD", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.0.0","name":"eni","type":"bridge"}`, "ADD", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.0.0","name":"eni"}`, "ADD", codeInvalidNetworkConfig},
		{nc(`,"agentSocket":"relative.sock"`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"agentSocket":"/` + strings.Repeat("x", 107) + `"`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"timeoutMs":0`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"timeoutMs":1.5`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"timeoutMs":"100"`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"timeoutMs":600001`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"dns":{"nameservers":["not-an-ip"]}`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"dns":null`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"runtimeConfig":[]`), "ADD", codeInvalidNetworkConfig},
		{nc(`,"ipam":{"type":"host-local"}`), "ADD", codeUnsupportedField},
		{nc(`,"ipam":null`), "ADD", codeUnsupportedField},
		{nc(""), "CHECK", codeInvalidNetworkConfig},
		{nc(`,"prevResult":{"ips":[{"address":"10.0.0.5"}]}`), "CHECK", codeInvalidNetworkConfig},
		{nc(`,"prevResult":{"ips":[{"address":"10.0.0.5/32","interface":1}]}`), "CHECK", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.1.0","name":"eni","type":"eni-cni","cni.dev/valid-attachments":[{"containerID":"c1"}]}`, "GC", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.1.0","name":"eni","type":"eni-cni","cni.dev/valid-attachments":{}}`, "GC", codeInvalidNetworkConfig},
		{`{"cniVersion":"1.1.0","name":"eni","type":"eni-cni","cni.dev/valid-attachments":null,"cni.dev/attachments":null}`, "GC", codeInvalidNetworkConfig},
	}
	for _, c := range cases {
		if got := codeOf(confError(t, c.conf, c.command)); got != c.code {
			t.Errorf("%s %s: code %d, want %d (%v)", c.command, c.conf, got, c.code, confError(t, c.conf, c.command))
		}
	}
	valid := []struct{ conf, command string }{
		{nc(`,"dns":{"nameservers":["10.96.0.10","fd00::a"]},"runtimeConfig":{"bandwidth":{}},"unknownKey":1`), "ADD"},
		{nc(`,"agentSocket":null,"timeoutMs":null`), "ADD"},
		{nc(`,"timeoutMs":1e3`), "ADD"},
		{nc(`,"prevResult":"garbage"`), "DEL"},
		{nc(`,"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mtu":1500}],"ips":[{"address":"10.0.0.5/32","gateway":"169.254.1.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"169.254.1.1","scope":253}]}`), "CHECK"},
		{`{"cniVersion":"1.1.0","name":"eni","type":"eni-cni","cni.dev/attachments":[{"containerID":"c1","ifname":"eth0"}]}`, "GC"},
		{`{"cniVersion":"1.1.0","name":"eni","type":"eni-cni","cni.dev/valid-attachments":null}`, "GC"},
	}
	for _, c := range valid {
		if err := confError(t, c.conf, c.command); err != nil {
			t.Errorf("%s %s: %v", c.command, c.conf, err)
		}
	}
}

func TestIpamMessageNamesKeyAndValue(t *testing.T) {
	err := confError(t, `{"cniVersion":"1.0.0","name":"eni","type":"eni-cni","ipam":{"type":"host-local"}}`, "ADD")
	if !strings.Contains(err.Error(), `ipam={"type":"host-local"}`) {
		t.Errorf("%v", err)
	}
}

func TestDelWarnsAboutAMalformedPrevResult(t *testing.T) {
	o, _ := decodeConfig([]byte(`{"cniVersion":"1.0.0","name":"eni","type":"eni-cni","prevResult":{"ips":"x"}}`))
	var warnings []string
	if _, err := parseNetConf(o, "DEL", func(w string) { warnings = append(warnings, w) }); err != nil || len(warnings) != 1 {
		t.Errorf("%v %v", err, warnings)
	}
}
