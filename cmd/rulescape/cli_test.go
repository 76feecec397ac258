package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/store"
)

// runCLI runs the command line in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// embeddedStack starts the embedded stack in a fresh $RULESCAPE_HOME for
// one test — the commands it runs attach to it — and a store client on its
// S3 endpoint. Without the S3 gateway it skips (fails with
// RULESCAPE_REQUIRE_S3=1). The context ends after timeout; the stack stops
// when the test ends.
func embeddedStack(t *testing.T, timeout time.Duration) (ctx context.Context, home string, st *devstack.Stack, s *store.Store) {
	t.Helper()
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	home = t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	st, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Stop() })
	s, err = store.New(ctx, store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, home, st, s
}
