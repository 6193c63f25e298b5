package integration

import (
	"errors"
	"net/netip"
	"testing"
)

// TestAllowListTargets: a target must be http or https without a user,
// on a host the operator listed (with its port when the entry names
// one); addresses match as addresses and ranges.
func TestAllowListTargets(t *testing.T) {
	a, err := ParseAllowList(" ERP.example.com, hooks.example.net:8443, 10.1.2.3, 192.168.7.0/24, [::1]:9000 ,")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://erp.example.com/hook", true},
		{"http://ERP.EXAMPLE.COM:8080/hook", true},
		{"https://hooks.example.net:8443/in", true},
		{"https://hooks.example.net/in", false}, // port 443, the entry says 8443
		{"https://evil.example.com/hook", false},
		{"https://erp.example.com.evil.net/hook", false},
		{"http://10.1.2.3/x", true},
		{"http://10.1.2.4/x", false},
		{"http://192.168.7.99:81/x", true},
		{"http://[::1]:9000/x", true},
		{"http://[::1]:9001/x", false},
		{"ftp://erp.example.com/x", false},
		{"https://user:pw@erp.example.com/x", false},
		{"https:///x", false},
		{"erp.example.com/hook", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			_, err := a.Target(c.url)
			if (err == nil) != c.ok {
				t.Fatalf("Target(%q) = %v, want ok %v", c.url, err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrNotAllowed) {
				t.Errorf("the error does not match ErrNotAllowed: %v", err)
			}
		})
	}
	empty, _ := ParseAllowList("")
	if _, err := empty.Target("https://erp.example.com/hook"); err == nil {
		t.Error("an empty allow-list allowed a host")
	}
	for _, bad := range []string{"https://erp.example.com", "*.example.com", "user@host"} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("ParseAllowList(%q) accepted", bad)
		}
	}
}

// TestDialerRefusesInternalAddresses: the dialer's check refuses
// loopback, link-local, private, unspecified and other internal
// addresses unless the operator listed the address or its range, and lets
// public addresses through.
func TestDialerRefusesInternalAddresses(t *testing.T) {
	a, err := ParseAllowList("localhost, 10.0.0.0/8, 127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34:443", true},
		{"[2606:4700::1111]:443", true},
		{"127.0.0.1:443", false}, // listed for port 8080 only
		{"127.0.0.1:8080", true},
		{"127.0.0.2:8080", false},
		{"[::1]:443", false},
		{"169.254.169.254:80", false}, // cloud metadata
		{"[fe80::1]:80", false},
		{"192.168.1.1:80", false},
		{"172.16.0.1:80", false},
		{"[fd00::1]:80", false},
		{"0.0.0.0:80", false},
		{"[::]:80", false},
		{"100.64.0.1:80", false},
		{"[::ffff:127.0.0.1]:80", false},
		{"[::ffff:192.168.1.1]:80", false},
		{"224.0.0.1:80", false},
		{"10.9.8.7:80", true},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			err := a.control("tcp", c.addr, nil)
			if (err == nil) != c.ok {
				t.Fatalf("control(%s) = %v, want ok %v", c.addr, err, c.ok)
			}
		})
	}
	if !internal(netip.MustParseAddr("::ffff:10.0.0.1")) || internal(netip.MustParseAddr("8.8.8.8")) {
		t.Error("internal() misjudges mapped or public addresses")
	}
}
