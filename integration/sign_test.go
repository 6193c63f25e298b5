package integration

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSignAndVerify: a signature verifies against the same secret and
// bytes within the tolerance, and fails for another secret, another body,
// an old or future timestamp, or a malformed header.
func TestSignAndVerify(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"1","event":"record.created"}`)
	sig := Sign("secret-of-sixteen", at, body)
	if !strings.HasPrefix(sig, "t=1772442000,v1=") || len(sig) != len("t=1772442000,v1=")+64 {
		t.Fatalf("signature %q", sig)
	}
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"the same", "secret-of-sixteen", sig, body, at.Add(time.Minute), true},
		{"another secret", "secret-of-seventeen", sig, body, at, false},
		{"another body", "secret-of-sixteen", sig, []byte(`{"id":"2","event":"record.created"}`), at, false},
		{"a replay", "secret-of-sixteen", sig, body, at.Add(10 * time.Minute), false},
		{"from the future", "secret-of-sixteen", sig, body, at.Add(-10 * time.Minute), false},
		{"one of two signatures", "secret-of-sixteen", sig + ",v1=00", body, at, true},
		{"no timestamp", "secret-of-sixteen", sig[strings.Index(sig, "v1="):], body, at, false},
		{"empty", "secret-of-sixteen", "", body, at, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute)
			if (err == nil) != c.ok {
				t.Fatalf("Verify = %v, want ok %v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Errorf("the error does not match ErrBadSignature: %v", err)
			}
		})
	}
}
