// Package devstack runs the services rulescape needs when no external ones
// are configured: a Temporal server in-process (go.temporal.io/server with
// SQLite file persistence) and an S3 endpoint (versitygw with its posix
// backend, as a subprocess), both on 127.0.0.1 with free ports.
//
// State lives under a home directory ($RULESCAPE_HOME, default
// ~/.rulescape):
//
//	temporal.db        Temporal's SQLite database (workflow histories, namespaces)
//	objects/           versitygw posix root; objects/<bucket>/<key> are the objects
//	s3-credentials.json  S3 access and secret key, generated once, mode 0600
//	stack.json         addresses of the stack last started on this home
//	lock               held (flock) by the process that owns the running stack
//	users/             one lease per attached process, held (flock) while attached
//
// One process owns the stack of a home: Start takes the lock; a second
// Start on the same home finds the lock taken, reads stack.json, checks
// that the owner's services answer, and attaches to them (Stack.Attached)
// instead of starting a second stack on the same state.
//
// An attached process holds a lease until its Stop (or its exit); the
// owner's StopWhenUnused waits until no lease is held before stopping, and
// an attached stack's Done closes when its owner is gone. The owner
// restarts the S3 gateway on the same port when it exits by itself, and
// the Temporal server on the same ports when it stops answering, and gives
// up (Done) after repeated failures. docs/DEVSTACK.md has the
// lifecycle and why it waits rather than hands the stack over.
//
// The package is only imported by cmd/rulescape, never by core/ or the
// other libraries. Building with -tags nodevstack replaces it by a stub
// whose Start returns ErrNotBuiltIn (slim worker images that always talk to
// external services); -tags nodevui drops only the Temporal Web UI.
package devstack
