package source

import (
	"errors"
	"fmt"
	"io"

	gzip "github.com/klauspost/pgzip"
)

// readError explains a failure that stops reading an input: a truncated or
// corrupt gzip stream, a connection reset while streaming an object.
func readError(name string, line int64, err error) error {
	where := name
	if line > 0 {
		where = fmt.Sprintf("%s near line %d", name, line)
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read %s: the data ends unexpectedly (a truncated upload or gzip stream); re-export the file or move it out of the landing prefix: %w", where, err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("read %s: the gzip stream is corrupt; re-export the file or move it out of the landing prefix: %w", where, err)
	}
	return fmt.Errorf("read %s: %w", where, err)
}
