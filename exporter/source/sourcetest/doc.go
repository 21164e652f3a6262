// Package sourcetest is the conformance suite for source.Source implementations (the Sigma-export source and
// the PostgreSQL source), in the manner of gocloud's drivertest: one set of behaviours every source must
// show, run against each implementation through a Harness that loads rows into a fresh source.
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{Name: "csv", Load: loadCSV})
//	}
//
// The suite checks that List and Open over an unbounded window return every row exactly once with the same
// text (timestamps compared as instants, so renderings may differ), that a bounded window returns at least
// the rows inside it, that empty values stay empty, that commas, quotes, newlines and non-ASCII text
// round-trip, and that Next keeps returning io.EOF after the end.
package sourcetest
