package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Shape checks of a CNI result (prevResult on CHECK and DEL) and of dns, with
// the rules of src/cni/result.ts. The first problem is reported with a
// JSON-path-like location.

type shapeError string

func (e shapeError) Error() string { return string(e) }

func shapeFail(path, what string) error {
	return shapeError(path + ": " + what)
}

func checkResult(v any, path string) error {
	o, ok := v.(object)
	if !ok {
		return shapeFail(path, "must be an object")
	}
	if err := optionalString(o, "cniVersion", path); err != nil {
		return err
	}
	interfaces, err := list(o, "interfaces", path)
	if err != nil {
		return err
	}
	for i, x := range interfaces {
		if err := checkInterface(x, fmt.Sprintf("%s.interfaces[%d]", path, i)); err != nil {
			return err
		}
	}
	ips, err := list(o, "ips", path)
	if err != nil {
		return err
	}
	for i, x := range ips {
		if err := checkIP(x, fmt.Sprintf("%s.ips[%d]", path, i), len(interfaces)); err != nil {
			return err
		}
	}
	routes, err := list(o, "routes", path)
	if err != nil {
		return err
	}
	for i, x := range routes {
		if err := checkRoute(x, fmt.Sprintf("%s.routes[%d]", path, i)); err != nil {
			return err
		}
	}
	if dns, present := o["dns"]; present {
		return checkDNS(dns, path+".dns")
	}
	return nil
}

func checkInterface(v any, path string) error {
	o, ok := v.(object)
	if !ok {
		return shapeFail(path, "must be an object")
	}
	name, ok := o["name"].(string)
	if !ok {
		return shapeFail(path+".name", "required string")
	}
	if name == "" {
		return shapeFail(path+".name", "must not be empty")
	}
	for _, key := range []string{"mac", "sandbox"} {
		if err := optionalString(o, key, path); err != nil {
			return err
		}
	}
	if err := optionalUint(o, "mtu", path, math32); err != nil {
		return err
	}
	for _, key := range []string{"socketPath", "pciID"} {
		if err := optionalString(o, key, path); err != nil {
			return err
		}
	}
	return nil
}

func checkIP(v any, path string, interfaces int) error {
	o, ok := v.(object)
	if !ok {
		return shapeFail(path, "must be an object")
	}
	if err := requiredCIDR(o, "address", path); err != nil {
		return err
	}
	if err := optionalIP(o, "gateway", path); err != nil {
		return err
	}
	if err := optionalUint(o, "interface", path, math32); err != nil {
		return err
	}
	if raw, present := o["interface"]; present {
		if n, _ := integer(raw); int(n) >= interfaces {
			return shapeFail(path+".interface", fmt.Sprintf("index %d but only %d interface(s)", int(n), interfaces))
		}
	}
	return nil
}

func checkRoute(v any, path string) error {
	o, ok := v.(object)
	if !ok {
		return shapeFail(path, "must be an object")
	}
	if err := requiredCIDR(o, "dst", path); err != nil {
		return err
	}
	if err := optionalIP(o, "gw", path); err != nil {
		return err
	}
	for _, key := range []string{"mtu", "advmss", "priority", "table"} {
		if err := optionalUint(o, key, path, math32); err != nil {
			return err
		}
	}
	return optionalUint(o, "scope", path, 255)
}

func checkDNS(v any, path string) error {
	o, ok := v.(object)
	if !ok {
		return shapeFail(path, "must be an object")
	}
	nameservers, err := stringList(o, "nameservers", path)
	if err != nil {
		return err
	}
	for i, n := range nameservers {
		if !isIP(n) {
			return shapeFail(fmt.Sprintf("%s.nameservers[%d]", path, i), "not an IP address: "+jsString(n))
		}
	}
	if err := optionalString(o, "domain", path); err != nil {
		return err
	}
	for _, key := range []string{"search", "options"} {
		if _, err := stringList(o, key, path); err != nil {
			return err
		}
	}
	return nil
}

const math32 = 0xffffffff

func optionalString(o object, key, path string) error {
	if v, present := o[key]; present {
		if _, ok := v.(string); !ok {
			return shapeFail(path+"."+key, "must be a string")
		}
	}
	return nil
}

func optionalUint(o object, key, path string, max float64) error {
	v, present := o[key]
	if !present {
		return nil
	}
	if n, ok := integer(v); !ok || n < 0 || n > max {
		return shapeFail(path+"."+key, "must be an integer 0.."+strconv.FormatFloat(max, 'f', -1, 64))
	}
	return nil
}

func list(o object, key, path string) ([]any, error) {
	v, present := o[key]
	if !present {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, shapeFail(path+"."+key, "must be a list")
	}
	return l, nil
}

func stringList(o object, key, path string) ([]string, error) {
	l, err := list(o, key, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, shapeFail(path+"."+key, "must be a list of strings")
		}
		out[i] = s
	}
	return out, nil
}

func optionalIP(o object, key, path string) error {
	v, present := o[key]
	if !present {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return shapeFail(path+"."+key, "must be a string")
	}
	if !isIP(s) {
		return shapeFail(path+"."+key, "not an IP address: "+jsString(s))
	}
	return nil
}

func requiredCIDR(o object, key, path string) error {
	s, ok := o[key].(string)
	if !ok {
		return shapeFail(path+"."+key, "required string")
	}
	if !isCIDR(s) {
		return shapeFail(path+"."+key, "not an address in CIDR notation: "+jsString(s))
	}
	return nil
}

// isIP is node's net.isIP() != 0: dotted-quad IPv4 or IPv6 (a zone allowed).
func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isCIDR: "10.0.0.5/32" or "fd00::5/128" (1-3 digits of prefix, within the family's bits).
func isCIDR(s string) bool {
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return false
	}
	addr, err := netip.ParseAddr(s[:slash])
	bits := s[slash+1:]
	if err != nil || bits == "" || len(bits) > 3 || strings.Trim(bits, "0123456789") != "" {
		return false
	}
	n, _ := strconv.Atoi(bits)
	if addr.Is4() {
		return n <= 32
	}
	return n <= 128
}
