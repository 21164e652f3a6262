// Package sinktest is the conformance suite every sinks backend runs, in the
// manner of gocloud's drivertest: the same behaviour (round trips with
// independently computed digests, create-if-absent, not-found, listing order
// and prefix boundaries, copy, delete, odd keys, empty and multipart-sized
// objects) checked against mem://, file://, in-process S3 here, and the real
// servers (versitygw, fake-gcs-server, Azurite) from integration/.
//
// Each subtest works under its own random key prefix, so one bucket can be
// shared by all subtests and by repeated runs.
//
// OpenFaulty gives tests above sinks a mem:// bucket whose calls fail on
// demand (lost responses, outages, permission errors; see package
// faultblob), to drive code such as the commit protocol through its
// failure paths in process.
package sinktest
