package api

import (
	"context"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// clientCheckEvery is how often a running request looks whether its
// client has gone away.
const clientCheckEvery = 500 * time.Millisecond

// requestContext gives the handlers a context (c.UserContext()) that ends
// when the request deadline passes or when the client closes its
// connection, so the database work of an abandoned or overlong request
// stops.
func (s *Server) requestContext(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	stop := watchClient(c.Context().Conn(), cancel)
	defer stop()
	c.SetUserContext(ctx)
	return c.Next()
}

// watchClient calls gone when the peer of conn closes the connection,
// checking every clientCheckEvery from then on until stop is called (and
// never after stop returns). A request answered within the first interval
// costs one timer. fasthttp tells handlers nothing when a client leaves,
// so the socket is peeked at without reading from it; where that is not
// possible (not a socket, another platform) nothing is watched.
func watchClient(conn net.Conn, gone func()) (stop func()) {
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn() // TLS: watch the socket beneath
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	var mu sync.Mutex
	stopped := false
	var timer *time.Timer
	mu.Lock() // the first check waits for timer to be set
	defer mu.Unlock()
	timer = time.AfterFunc(clientCheckEvery, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if peerClosed(raw) {
			gone()
			return
		}
		timer.Reset(clientCheckEvery)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		timer.Stop()
	}
}
