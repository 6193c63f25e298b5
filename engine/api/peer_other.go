//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package api

import "syscall"

// peerClosed cannot peek at sockets on this platform: only the request
// deadline ends a request's context.
func peerClosed(syscall.RawConn) bool { return false }
