// Package faultblob is a gocloud.dev blob driver that keeps its objects in
// another *blob.Bucket (a fresh mem:// one by default) and fails chosen
// calls: the first n, the Nth, or every call of one kind on keys under a
// prefix, with a lost response where asked (the call takes effect, then
// fails). Tests put it under a sinks.Bucket (sinktest.OpenFaulty does) to
// drive the retry, create-if-absent and commit-protocol code through its
// failure paths in process, without an SDK's own retries in between.
//
// It imports nothing of this module, so package sinks' own tests can use it
// as well as tests of the packages above sinks.
package faultblob
