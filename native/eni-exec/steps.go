package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// step is one netlink change, what one `ip` line used to be. Do names it; the
// other fields are its arguments (see validate for which each takes).
type step struct {
	Do  string `json:"do"`
	Dev string `json:"dev,omitempty"`

	// link-set: a new alias ("" clears it), a new name and a namespace to move
	// to, in one request (see linkSet for the order the kernel applies them in).
	Alias  *string `json:"alias,omitempty"`
	Rename string  `json:"rename,omitempty"`
	To     string  `json:"to,omitempty"`

	// veth-add (Dev + MAC; the peer born in PeerNetns when set), ipvlan-add (Dev on Parent, born in To when set).
	MAC       string `json:"mac,omitempty"`
	Peer      string `json:"peer,omitempty"`
	PeerMAC   string `json:"peerMac,omitempty"`
	PeerNetns string `json:"peerNetns,omitempty"`
	Parent    string `json:"parent,omitempty"`

	// address-replace / address-delete
	CIDR          string `json:"cidr,omitempty"`
	NoPrefixRoute bool   `json:"noPrefixRoute,omitempty"`

	// route-replace / route-delete, rule-add / rule-delete, neighbour-replace, proxy-*
	Table    int    `json:"table,omitempty"`
	Dst      string `json:"dst,omitempty"`
	Src      string `json:"src,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Onlink   bool   `json:"onlink,omitempty"`
	Protocol int    `json:"protocol,omitempty"`
	Priority int    `json:"priority,omitempty"`
	LLAddr   string `json:"lladdr,omitempty"`

	// sysctl: the path under /proc/sys as segments.
	Path  []string `json:"path,omitempty"`
	Value string   `json:"value,omitempty"`
}

// validate checks the arguments a step's kind needs, before anything runs.
func (s step) validate() error {
	need := func(fields ...string) error {
		for _, f := range fields {
			if s.field(f) == "" {
				return fmt.Errorf("%q is required", f)
			}
		}
		return nil
	}
	switch s.Do {
	case "link-up", "link-down", "link-delete", "address-flush":
		return s.checkNames(need("dev"), s.Dev)
	case "link-set":
		if s.Alias == nil && s.Rename == "" && s.To == "" {
			return errors.New(`one of "alias", "rename", "to" is required`)
		}
		return s.checkNames(need("dev"), s.Dev, s.Rename)
	case "veth-add":
		if err := s.checkNames(need("dev", "peer"), s.Dev, s.Peer); err != nil {
			return err
		}
		return checkMACs(s.MAC, s.PeerMAC)
	case "ipvlan-add":
		return s.checkNames(need("dev", "parent"), s.Dev, s.Parent)
	case "address-replace", "address-delete":
		if err := s.checkNames(need("dev", "cidr"), s.Dev); err != nil {
			return err
		}
		_, err := netip.ParsePrefix(s.CIDR)
		return err
	case "route-replace", "route-delete":
		return s.checkRoute()
	case "rule-add", "rule-delete":
		return s.checkRule()
	case "neighbour-replace":
		if err := s.checkNames(need("dev", "dst", "lladdr"), s.Dev); err != nil {
			return err
		}
		return errors.Join(checkAddr(s.Dst), checkMACs(s.LLAddr))
	case "proxy-replace", "proxy-delete":
		if err := s.checkNames(need("dev", "dst"), s.Dev); err != nil {
			return err
		}
		return checkAddr(s.Dst)
	case "sysctl":
		return checkSysctlPath(s.Path)
	}
	return fmt.Errorf("unknown step %q", s.Do)
}

func (s step) field(name string) string {
	switch name {
	case "dev":
		return s.Dev
	case "peer":
		return s.Peer
	case "parent":
		return s.Parent
	case "cidr":
		return s.CIDR
	case "dst":
		return s.Dst
	case "lladdr":
		return s.LLAddr
	}
	return ""
}

// checkNames: link names are 1-15 bytes without "/", ":" or whitespace ("" = not given).
func (s step) checkNames(err error, names ...string) error {
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != "" && (len(n) > 15 || n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n")) {
			return fmt.Errorf("invalid link name %q", n)
		}
	}
	if s.To != "" && !strings.HasPrefix(s.To, "/") || s.PeerNetns != "" && !strings.HasPrefix(s.PeerNetns, "/") {
		return errors.New("namespaces are absolute nsfs paths")
	}
	return nil
}

func (s step) checkRoute() error {
	if _, err := netip.ParsePrefix(s.Dst); err != nil {
		return err
	}
	if s.Gateway != "" {
		if err := checkAddr(s.Gateway); err != nil {
			return err
		}
	}
	if s.Scope != "" && s.Scope != "link" {
		return fmt.Errorf(`"scope" is "link" or absent, not %q`, s.Scope)
	}
	if s.Table <= 0 {
		return errors.New(`"table" is required`)
	}
	if s.Do == "route-replace" && s.Dev == "" {
		return errors.New(`"dev" is required`)
	}
	return s.checkNames(nil, s.Dev)
}

func (s step) checkRule() error {
	for _, p := range []string{s.Src, s.Dst} {
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			return err
		}
	}
	if s.Table <= 0 || s.Priority <= 0 {
		return errors.New(`"table" and "priority" are required`)
	}
	return nil
}

func checkAddr(a string) error {
	_, err := netip.ParseAddr(a)
	return err
}

func checkMACs(macs ...string) error {
	for _, m := range macs {
		if m == "" {
			continue
		}
		if hw, err := net.ParseMAC(m); err != nil || len(hw) != 6 {
			return fmt.Errorf("invalid MAC %q", m)
		}
	}
	return nil
}

func checkSysctlPath(path []string) error {
	if len(path) == 0 {
		return errors.New(`"path" is required`)
	}
	for _, p := range path {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\x00") {
			return fmt.Errorf("invalid sysctl path %q", strings.Join(path, "/"))
		}
	}
	return nil
}

// describe is how a failure names the step: close to the `ip` command it replaces.
func (s step) describe() string {
	switch s.Do {
	case "link-set":
		parts := []string{"link set dev " + s.Dev}
		if s.Alias != nil {
			parts = append(parts, fmt.Sprintf("alias %q", *s.Alias))
		}
		if s.To != "" {
			parts = append(parts, "netns "+s.To)
		}
		if s.Rename != "" {
			parts = append(parts, "name "+s.Rename)
		}
		return strings.Join(parts, " ")
	case "veth-add":
		return fmt.Sprintf("link add %s type veth peer name %s%s", s.Dev, s.Peer, prefixed(" netns ", s.PeerNetns))
	case "ipvlan-add":
		return fmt.Sprintf("link add link %s name %s%s type ipvlan mode l2", s.Parent, s.Dev, prefixed(" netns ", s.To))
	case "address-replace", "address-delete":
		return fmt.Sprintf("%s %s dev %s", s.Do, s.CIDR, s.Dev)
	case "route-replace", "route-delete":
		return fmt.Sprintf("%s %s%s%s table %d", s.Do, s.Dst, prefixed(" via ", s.Gateway), prefixed(" dev ", s.Dev), s.Table)
	case "rule-add", "rule-delete":
		return fmt.Sprintf("%s priority %d%s%s lookup %d", s.Do, s.Priority, prefixed(" from ", s.Src), prefixed(" to ", s.Dst), s.Table)
	case "neighbour-replace":
		return fmt.Sprintf("neighbour replace %s lladdr %s dev %s", s.Dst, s.LLAddr, s.Dev)
	case "proxy-replace", "proxy-delete":
		return fmt.Sprintf("%s %s dev %s", s.Do, s.Dst, s.Dev)
	case "sysctl":
		return fmt.Sprintf("sysctl %s=%s", strings.Join(s.Path, "."), s.Value)
	}
	return s.Do + " " + s.Dev
}

func prefixed(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}
