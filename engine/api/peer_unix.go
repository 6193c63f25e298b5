//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package api

import "syscall"

// peerClosed reports whether the peer of a connected socket has closed or
// reset it: a peek that neither blocks nor consumes reads end of stream.
// Bytes waiting (a pipelined request) mean the client is still there.
func peerClosed(raw syscall.RawConn) bool {
	closed := false
	_ = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n == 0 && err == nil || err == syscall.ECONNRESET
	})
	return closed
}
