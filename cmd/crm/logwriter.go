package main

import (
	"io"
	"sync"
	"time"
)

// Buffering of the log: under load the server writes one line per request,
// and a write to stderr per line cost more than the request's permission
// decision. Lines are collected and written together at most logFlushEvery
// after the first of them (or once logBufferSize bytes wait).
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

// logWriter buffers whole log lines (a slog handler writes each record in
// one Write) and writes them to w in order: logFlushEvery after the first
// line waiting, when logBufferSize bytes wait, on Flush and on Close. A
// process killed outright loses at most the last logFlushEvery of lines.
type logWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	timer  *time.Timer
	armed  bool
	closed bool
}

// newLogWriter returns a logWriter over w.
func newLogWriter(w io.Writer) *logWriter { return &logWriter{w: w} }

// Write queues p; it writes through when the buffer is full or the writer
// closed, and then returns w's error.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBufferSize {
		return len(p), l.flushLocked()
	}
	if !l.armed {
		l.armed = true
		if l.timer == nil {
			l.timer = time.AfterFunc(logFlushEvery, func() { _ = l.Flush() })
		} else {
			l.timer.Reset(logFlushEvery)
		}
	}
	return len(p), nil
}

// Flush writes out the lines waiting.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

// flushLocked writes the buffer out; l.mu is held.
func (l *logWriter) flushLocked() error {
	l.armed = false
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Close writes out the lines waiting; later lines are written as they come.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	return l.flushLocked()
}
