package reminders_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/mailserver/mailtest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// secureBox is a mailbox whose server offers STARTTLS and PLAIN
// authentication, and records whether each message came over TLS and as
// whom.
type secureBox struct {
	mailtest.Mailbox
	mu    sync.Mutex
	notes []string
}

func (b *secureBox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &secureSession{Session: mailtest.Session{Box: &b.Mailbox}, b: b, c: c}, nil
}

type secureSession struct {
	mailtest.Session
	b    *secureBox
	c    *smtp.Conn
	user string
}

func (s *secureSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *secureSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "crm@example.com" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *secureSession) Data(r io.Reader) error {
	_, tlsOn := s.c.TLSConnectionState()
	s.b.mu.Lock()
	s.b.notes = append(s.b.notes, fmt.Sprintf("tls=%v user=%s", tlsOn, s.user))
	s.b.mu.Unlock()
	return s.Session.Data(r)
}

// selfSigned returns a certificate for 127.0.0.1 and writes it as the
// only trusted root (SSL_CERT_FILE, read when this test binary first
// verifies a certificate).
func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", file)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestSMTPStartTLS sends a reminder's e-mail through a server that offers
// STARTTLS and wants authentication: CRM_SMTP_URL's user and password are
// sent over TLS only.
func TestSMTPStartTLS(t *testing.T) {
	cert := selfSigned(t)
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		box := &secureBox{}
		srv := smtp.NewServer(box)
		srv.Domain = "localhost"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		t.Setenv("CRM_SMTP_URL", "smtp://crm%40example.com:s3cret@"+ln.Addr().String())
		clk := newClock(mustTime("2026-05-01T08:00:00Z"))
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: clk.Now}})
		if _, err := s.Platform.Access.UpdateUser(context.Background(), "rep1", access.UserUpdate{Email: ptr("rep1@example.com")}); err != nil {
			t.Fatal(err)
		}
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		s.Create("rep1", "contact", `{"name": "Li Lei", "account": "`+acc+`", "birthday": "1985-05-02"}`)
		clk.at("2026-05-02T09:01:00Z")
		scan(t, s)
		got := box.To("rep1@example.com")
		box.mu.Lock()
		notes := fmt.Sprint(box.notes)
		box.mu.Unlock()
		if len(got) != 1 || got[0].Subject != "Birthday: Li Lei" || notes != "[tls=true user=crm@example.com]" {
			t.Fatalf("e-mail %+v, sessions %s", got, notes)
		}
	})
}
