package postgres

// ReadThroughCursor makes every scan of s read through the cursor, never the binary COPY, so that tests can
// compare the two paths on the same table.
func ReadThroughCursor(s *Source) { s.cursorOnly = true }

// ReadsBinaryCopy reports whether r, a reader that s.Open returned, reads a binary COPY.
func ReadsBinaryCopy(r any) bool {
	pr, ok := r.(*postgresReader)
	return ok && pr.copy != nil
}
