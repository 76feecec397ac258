package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// partSize is the multipart part size of uploads of unknown length: minio-go
// would otherwise pick ~537 MiB parts and buffer one of them in memory.
const partSize = 16 << 20

// Reasons a store cannot be used, for errors.Is on a *ConnectError.
var (
	ErrUnreachable = errors.New("S3 endpoint unreachable")
	ErrCredentials = errors.New("S3 credentials rejected")
	ErrAccess      = errors.New("S3 access denied")
)

// ConnectError explains why New could not use the object store. It unwraps
// to its reason (ErrUnreachable, ErrCredentials or ErrAccess) and its cause.
type ConnectError struct {
	Reason error
	Err    error
	msg    string
}

func (e *ConnectError) Error() string   { return e.msg }
func (e *ConnectError) Unwrap() []error { return []error{e.Reason, e.Err} }

// Store is a bucket in an S3-compatible object store. It is safe for
// concurrent use.
type Store struct {
	client    *minio.Client
	transport *http.Transport
	cfg       Config
}

// New connects to the object store and checks up front, within
// cfg.ConnectTimeout, that the endpoint answers and accepts the credentials,
// so that a misconfiguration is one clear error here rather than a retry
// storm later. It does not create the bucket (see EnsureBucket).
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client, tr, err := newClient(cfg, 0)
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, transport: tr, cfg: cfg}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// maxIdleConns is the number of idle connections a client keeps to its
// endpoint: the bulk resolution (64 lookups at once) and a process's
// workers' commits run many requests in parallel, and minio-go's default of
// 16 per host closed the others after each request, so that most requests
// of a cached campaign's run opened a new TCP connection.
const maxIdleConns = 256

func newClient(cfg Config, retries int) (*minio.Client, *http.Transport, error) {
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, nil, fmt.Errorf("store: endpoint %q (%s): %w", cfg.Endpoint, EnvEndpoint, err)
	}
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		MaxRetries: retries,
		Transport:  tr,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: endpoint %q (%s): %w", cfg.Endpoint, EnvEndpoint, err)
	}
	return client, tr, nil
}

// Close closes the client's idle connections. A server that keeps
// connections alive may wait for them when it stops (the embedded stack's
// versitygw does, for one the pool opened but never used), so a process
// that stops the server it used closes its store first. The store stays
// usable: a later request opens a new connection.
func (s *Store) Close() {
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}

// check lists at most one object of the bucket with a client that does not
// retry. A missing bucket is fine: the endpoint answered and the signature
// was accepted.
func (s *Store) check(ctx context.Context) error {
	probe, tr, err := newClient(s.cfg, 1)
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	for obj := range probe.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{MaxKeys: 1}) {
		if obj.Err != nil {
			err = obj.Err
		}
		break
	}
	if err == nil {
		return nil
	}
	ep := s.cfg.Endpoint
	if parent.Err() != nil {
		return fmt.Errorf("store: connecting to %s: %w", ep, parent.Err())
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchBucket":
		return nil
	case isCredentialCode(resp.Code):
		return &ConnectError{Reason: ErrCredentials, Err: err, msg: fmt.Sprintf(
			"S3 credentials rejected by %s (%s: %s): check %s/SECRET_KEY", ep, resp.Code, resp.Message, EnvAccessKey)}
	case resp.Code == "AccessDenied" || resp.StatusCode == 403:
		return &ConnectError{Reason: ErrAccess, Err: err, msg: fmt.Sprintf(
			"S3 access denied by %s to bucket %s (%s): the credentials in %s/SECRET_KEY are valid but may not list the bucket; grant them access or set %s",
			ep, s.cfg.Bucket, resp.Message, EnvAccessKey, EnvBucket)}
	case isNetwork(err) || ctx.Err() != nil:
		cause := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err.Error() // without the request URL
		}
		if ctx.Err() != nil {
			cause = fmt.Sprintf("no answer within %v", s.cfg.ConnectTimeout)
		}
		return &ConnectError{Reason: ErrUnreachable, Err: err, msg: fmt.Sprintf(
			"S3 endpoint %s unreachable: %s — start MinIO or set %s", ep, cause, EnvEndpoint)}
	}
	return &ConnectError{Reason: ErrUnreachable, Err: err, msg: fmt.Sprintf(
		"S3 endpoint %s did not answer like S3: %v — check %s (and %s for https)", ep, err, EnvEndpoint, EnvSecure)}
}

// isCredentialCode reports whether an S3 error code means the access key is
// unknown or the secret key is wrong (versitygw answers an unknown access
// key with XAdminUserNotFound).
func isCredentialCode(code string) bool {
	switch code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "XAdminUserNotFound":
		return true
	}
	return false
}

func isNetwork(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.cfg.Bucket }

// Endpoint returns host:port of the object store.
func (s *Store) Endpoint() string { return s.cfg.Endpoint }

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("store: checking bucket %s: %w", s.cfg.Bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
		return fmt.Errorf("store: creating bucket %s: %w", s.cfg.Bucket, err)
	}
	return nil
}

// Put writes a small object (a manifest, a checkpoint, a report page) in
// one request.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("store: writing %s: %w", key, err)
	}
	return nil
}

// Get reads a whole object. A missing object is an error for which
// IsNotFound is true.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", key, err)
	}
	return data, nil
}

// IsNotFound reports whether err says that an object or bucket does not exist.
func IsNotFound(err error) bool {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	switch resp.Code {
	case "NoSuchKey", "NoSuchBucket", "NotFound":
		return true
	}
	return false
}

// Object is an open object: a streaming reader that can also seek and read
// at offsets (what Parquet and Arrow IPC readers need).
type Object struct {
	obj  *minio.Object
	size int64
}

// Open opens an object for reading; it fails at once if the object does not
// exist. The caller must Close it.
func (s *Store) Open(ctx context.Context, key string) (*Object, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("store: opening %s: %w", key, err)
	}
	return &Object{obj: obj, size: st.Size}, nil
}

// Size returns the object's size in bytes.
func (o *Object) Size() int64 { return o.size }

// Read reads sequentially.
func (o *Object) Read(p []byte) (int, error) { return o.obj.Read(p) }

// Seek sets the offset of the next Read.
func (o *Object) Seek(offset int64, whence int) (int64, error) { return o.obj.Seek(offset, whence) }

// ReadAt reads len(p) bytes at off. Unlike minio.Object it returns a nil
// error for a full read that ends exactly at the end of the object.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.obj.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}

// Close releases the object.
func (o *Object) Close() error { return o.obj.Close() }

// Presign returns a URL that lets anyone GET the object until expiry
// (between 1 s and 7 days, the S3 limits) passes; after that the store
// refuses it (403). The URL names the configured endpoint, so it works for
// whoever can reach that address.
func (s *Store) Presign(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if expiry < time.Second || expiry > 7*24*time.Hour {
		return "", fmt.Errorf("store: presign expiry %v: must be between 1s and 168h (S3 limits)", expiry)
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, key, expiry, nil)
	if err != nil {
		return "", fmt.Errorf("store: presigning %s: %w", key, err)
	}
	return u.String(), nil
}
