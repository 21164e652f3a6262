package archive

import "errors"

// ErrDamaged means an object of the archive is damaged, or inconsistent
// with the commit log: the operation stops, and verify tells what else is
// wrong and how to repair it. Errors that mean it are *DamagedError (and
// ErrKeysMissing's); test with errors.Is.
var ErrDamaged = errors.New("the archive is damaged or inconsistent")

// DamagedError is one archive object found damaged or inconsistent with
// the commit log. Its text is Err's, which names the object and what is
// wrong with it; errors.Is(err, ErrDamaged) holds for it.
type DamagedError struct {
	Key string // the object, relative to the archive's prefix
	Err error  // what is wrong with it
}

func (e *DamagedError) Error() string        { return e.Err.Error() }
func (e *DamagedError) Unwrap() error        { return e.Err }
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }
