package integration

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// AllowEnv names the environment variable holding the operator's
// allow-list of webhook target hosts: comma-separated host names, IP
// addresses or CIDR ranges, optionally with a port ("erp.example.com",
// "erp.example.com:8443", "10.1.2.3", "10.1.0.0/16"). Empty (the default)
// allows no host at all.
const AllowEnv = "CRM_WEBHOOK_ALLOW"

// ErrNotAllowed is returned for a webhook target the allow-list or the
// address rules refuse.
var ErrNotAllowed = errors.New("integration: webhook target not allowed")

// AllowList is the operator's allow-list of webhook target hosts.
type AllowList struct {
	hosts    []hostEntry
	prefixes []prefixEntry
}

// hostEntry is a host name or address, with a port or "" for any.
type hostEntry struct{ host, port string }

// prefixEntry is a CIDR range, with a port or "" for any.
type prefixEntry struct {
	prefix netip.Prefix
	port   string
}

// hostName and portNumber are the shapes of an allow-list entry's parts.
var (
	hostName   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	portNumber = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// AllowListFromEnv reads the allow-list from CRM_WEBHOOK_ALLOW.
func AllowListFromEnv() (*AllowList, error) { return ParseAllowList(os.Getenv(AllowEnv)) }

// ParseAllowList parses a comma-separated allow-list (see AllowEnv).
func ParseAllowList(s string) (*AllowList, error) {
	a := &AllowList{}
	for _, raw := range strings.Split(s, ",") {
		e := strings.ToLower(strings.TrimSpace(raw))
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, prefixEntry{prefix: p.Masked()})
			continue
		}
		host, port := e, ""
		if h, p, err := net.SplitHostPort(e); err == nil {
			host, port = h, p
		}
		addr, err := netip.ParseAddr(host)
		if err == nil {
			host = addr.Unmap().String()
		}
		if (err != nil && !hostName.MatchString(host)) || (port != "" && !portNumber.MatchString(port)) {
			return nil, fmt.Errorf("%s: %q is not a host name, an address or a CIDR range, with an optional port", AllowEnv, strings.TrimSpace(raw))
		}
		a.hosts = append(a.hosts, hostEntry{host: host, port: port})
	}
	return a, nil
}

// Target checks a webhook's target URL: http or https, a host, no user
// name or password, and a host (with its port) on the allow-list.
func (a *AllowList) Target(raw string) (*url.URL, error) {
	u, err := parseTarget(raw)
	if err != nil {
		return nil, err
	}
	host, port := hostPort(u)
	if !a.hostAllowed(host, port) {
		return nil, fmt.Errorf("%w: the host %s is not on the operator's allow-list (%s)", ErrNotAllowed, u.Host, AllowEnv)
	}
	return u, nil
}

// parseTarget checks the form of a target URL.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL", ErrNotAllowed, raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: only http and https URLs are allowed, not %q", ErrNotAllowed, u.Scheme)
	}
	if u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q needs a host and no user name or password", ErrNotAllowed, raw)
	}
	return u, nil
}

// hostPort returns the lowercase host (an address in its canonical form)
// and the port of a URL, the scheme's default when it has none.
func hostPort(u *url.URL) (string, string) {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if addr, err := netip.ParseAddr(host); err == nil {
		host = addr.Unmap().String()
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return host, port
}

// hostAllowed reports whether a URL's host and port are on the list.
func (a *AllowList) hostAllowed(host, port string) bool {
	for _, e := range a.hosts {
		if e.host == host && (e.port == "" || e.port == port) {
			return true
		}
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return a.addressListed(addr, port)
	}
	return false
}

// addressListed reports whether an address is on the list itself (as an
// address or inside a range), not only through a host name.
func (a *AllowList) addressListed(addr netip.Addr, port string) bool {
	addr = addr.Unmap()
	for _, e := range a.hosts {
		if h, err := netip.ParseAddr(e.host); err == nil && h == addr && (e.port == "" || e.port == port) {
			return true
		}
	}
	for _, e := range a.prefixes {
		if e.prefix.Contains(addr) && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

// sharedSpace is 100.64.0.0/10, the carrier-grade NAT range; thisNetwork
// is 0.0.0.0/8.
var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
)

// internal reports whether an address belongs to a machine's or a
// network's inside: loopback, link-local, private, unspecified, multicast,
// broadcast, carrier-grade NAT and "this network".
func internal(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || sharedSpace.Contains(addr) || thisNetwork.Contains(addr)
}

// Client returns an HTTP client for posts to targets the list allows
// (check the URL with Target first): its dialer refuses internal
// addresses the list does not name (checked on the address dialled, after
// name resolution), with no proxy, no redirects, and timeout bounding
// each phase and the whole request. Automations' webhook notifications
// (workflows/reminders) post through it too.
func (a *AllowList) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: a.control}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          1,
			DisableKeepAlives:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// control is the net.Dialer Control function of webhook deliveries: it
// sees the address actually dialled, after name resolution, so a name
// that resolves (or is re-bound) to an internal address is refused unless
// the operator listed that address or its range.
func (a *AllowList) control(network, address string, _ syscall.RawConn) error {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNotAllowed, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address", ErrNotAllowed, host)
	}
	if internal(addr) && !a.addressListed(addr, port) {
		return fmt.Errorf("%w: %s is an internal address; list it in %s to allow it", ErrNotAllowed, addr, AllowEnv)
	}
	return nil
}
