package store

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvEndpoint  = "RULESCAPE_S3_ENDPOINT"
	EnvAccessKey = "RULESCAPE_S3_ACCESS_KEY"
	EnvSecretKey = "RULESCAPE_S3_SECRET_KEY"
	EnvBucket    = "RULESCAPE_S3_BUCKET"
	EnvRegion    = "RULESCAPE_S3_REGION"
	EnvSecure    = "RULESCAPE_S3_SECURE"
)

// Config says where the object store is and how to sign in. The zero value
// of every field but the keys has a default.
type Config struct {
	// Endpoint is host:port, or a URL http://host:port / https://host:port
	// (which also sets Secure). Default "127.0.0.1:9000".
	Endpoint string
	// AccessKey and SecretKey are the S3 credentials. Required.
	AccessKey, SecretKey string
	// Bucket holds everything rulescape writes. Default "rulescape".
	Bucket string
	// Region of the bucket. Default "us-east-1".
	Region string
	// Secure selects HTTPS. Default false.
	Secure bool
	// ConnectTimeout bounds the reachability and credential check of New.
	// Default 5 s.
	ConnectTimeout time.Duration
}

// ConfigFromEnv reads RULESCAPE_S3_ENDPOINT, RULESCAPE_S3_ACCESS_KEY,
// RULESCAPE_S3_SECRET_KEY, RULESCAPE_S3_BUCKET, RULESCAPE_S3_REGION and
// RULESCAPE_S3_SECURE; unset variables keep their defaults.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Endpoint:  os.Getenv(EnvEndpoint),
		AccessKey: os.Getenv(EnvAccessKey),
		SecretKey: os.Getenv(EnvSecretKey),
		Bucket:    os.Getenv(EnvBucket),
		Region:    os.Getenv(EnvRegion),
	}
	if v := os.Getenv(EnvSecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("store: %s=%q: want true or false", EnvSecure, v)
		}
		c.Secure = b
	}
	return c, nil
}

// withDefaults fills unset fields and normalises a URL endpoint.
func (c Config) withDefaults() (Config, error) {
	if c.Endpoint == "" {
		c.Endpoint = "127.0.0.1:9000"
	}
	if strings.Contains(c.Endpoint, "://") {
		u, err := url.Parse(c.Endpoint)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return c, fmt.Errorf("store: endpoint %q: want host:port or http(s)://host:port with no path (%s)", c.Endpoint, EnvEndpoint)
		}
		switch u.Scheme {
		case "http":
			c.Secure = false
		case "https":
			c.Secure = true
		default:
			return c, fmt.Errorf("store: endpoint %q: scheme %q, want http or https (%s)", c.Endpoint, u.Scheme, EnvEndpoint)
		}
		c.Endpoint = u.Host
	}
	if c.Bucket == "" {
		c.Bucket = "rulescape"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return c, fmt.Errorf("store: S3 credentials missing: set %s and %s", EnvAccessKey, EnvSecretKey)
	}
	if err := checkBucketName(c.Bucket); err != nil {
		return c, err
	}
	return c, nil
}

// checkBucketName applies the S3 bucket naming rules that matter here.
func checkBucketName(b string) error {
	ok := len(b) >= 3 && len(b) <= 63
	for i := 0; ok && i < len(b); i++ {
		ch := b[i]
		ok = ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || (ch == '-' || ch == '.') && i > 0 && i < len(b)-1
	}
	if !ok {
		return fmt.Errorf("store: bucket %q: want 3–63 lowercase letters, digits, '-' or '.' (%s)", b, EnvBucket)
	}
	return nil
}

// String returns the configuration with the secret key redacted, safe to log.
func (c Config) String() string {
	secret := ""
	if c.SecretKey != "" {
		secret = "<redacted>"
	}
	return fmt.Sprintf("{Endpoint:%s AccessKey:%s SecretKey:%s Bucket:%s Region:%s Secure:%v ConnectTimeout:%v}",
		c.Endpoint, c.AccessKey, secret, c.Bucket, c.Region, c.Secure, c.ConnectTimeout)
}
