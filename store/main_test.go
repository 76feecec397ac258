package store_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"rulescape/internal/s3test"
	"rulescape/store"
)

// One gateway serves every test of the package; each test uses its own bucket.
var (
	gateway    *s3test.Server
	gatewayErr error
	bucketSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	gateway, gatewayErr = s3test.New("")
	code := m.Run()
	if gateway != nil {
		gateway.Stop()
	}
	os.Exit(code)
}

// config returns a Config for the test gateway and a fresh bucket, or skips
// the test (fails it when RULESCAPE_REQUIRE_S3=1) if there is no gateway.
func config(t *testing.T) store.Config {
	t.Helper()
	if gatewayErr != nil {
		s3test.SkipOrFail(t, gatewayErr)
	}
	return store.Config{
		Endpoint: gateway.Endpoint, AccessKey: gateway.AccessKey, SecretKey: gateway.SecretKey,
		Region: gateway.Region, Bucket: fmt.Sprintf("test-%d", bucketSeq.Add(1)),
	}
}

// newStore connects to the test gateway and creates a fresh bucket.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := store.New(ctx, config(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket on an existing bucket: %v", err)
	}
	return s
}
