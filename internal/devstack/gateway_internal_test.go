//go:build !nodevstack

package devstack

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// TestGatewayKeepsConnectionsAlive checks that the stack's versitygw
// answers many requests on one connection: it closes each connection after
// one response unless started with --keep-alive, which made every lookup of
// a cached campaign's run a new TCP connection.
func TestGatewayKeepsConnectionsAlive(t *testing.T) {
	t.Parallel()
	requireGateway(t)
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{Home: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	tr, err := minio.DefaultTransport(false)
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int64
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}
	c, err := minio.New(st.S3Endpoint, &minio.Options{
		Creds: miniocreds.NewStaticV4(st.S3AccessKey, st.S3SecretKey, ""), Transport: tr, Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	const requests = 8
	for i := range requests {
		if ok, err := c.BucketExists(ctx, st.S3Bucket); err != nil || !ok {
			t.Fatalf("request %d: bucket %s exists = %v, %v", i, st.S3Bucket, ok, err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d sequential requests opened %d connections, want 1 (is the gateway started with --keep-alive?)", requests, n)
	}
	tr.CloseIdleConnections()
}
