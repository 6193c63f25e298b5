package engine

import (
	"fmt"
	"io"
	"os"
)

// spool reads r to its end into a temporary file, stopping with
// ErrTooLarge once it passes max bytes, and returns what it read. Only
// the finished file is held in memory (to store it): a slow upload costs
// a copy buffer while it arrives, and an upload over the limit never more.
func spool(r io.Reader, max int64) ([]byte, error) {
	tmp, err := os.CreateTemp("", "crm-upload-*")
	if err != nil {
		return nil, fmt.Errorf("engine: spool upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(r, max+1))
	if err != nil {
		// The client's stream broke: its fault, not the server's.
		return nil, fmt.Errorf("%w: the upload broke off before its end", ErrBadRequest)
	}
	if n > max {
		return nil, ErrTooLarge
	}
	data := make([]byte, n)
	if _, err := tmp.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("engine: spool upload: %w", err)
	}
	return data, nil
}
