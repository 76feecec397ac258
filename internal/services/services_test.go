package services

import (
	"strings"
	"testing"

	"rulescape/internal/devstack"
)

// TestClientOptions: the flags override the environment, and only a
// named server (flag, TEMPORAL_ADDRESS or a profile) makes the services
// external.
func TestClientOptions(t *testing.T) {
	for _, c := range []struct {
		name, env, addr, ns string
		wantAddr, wantNS    string
		external            bool
	}{
		{name: "nothing: embedded"},
		{name: "environment", env: "env:7233", wantAddr: "env:7233", external: true},
		{name: "flag over environment", env: "env:7233", addr: "flag:7233", ns: "lab", wantAddr: "flag:7233", wantNS: "lab", external: true},
		{name: "flag alone", addr: "flag:7233", wantAddr: "flag:7233", external: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(devstack.EnvTemporalAddr, c.env)
			t.Setenv("TEMPORAL_PROFILE", "")
			t.Setenv("TEMPORAL_NAMESPACE", "")
			opts, external, err := ClientOptions(Options{Address: c.addr, Namespace: c.ns})
			if err != nil {
				t.Fatal(err)
			}
			if external != c.external || opts.HostPort != c.wantAddr || opts.Namespace != c.wantNS {
				t.Errorf("got %q, namespace %q, external %v; want %q, %q, %v", opts.HostPort, opts.Namespace, external, c.wantAddr, c.wantNS, c.external)
			}
		})
	}
}

// TestConnectStoreExternalNeedsS3: with an external Temporal server and no
// S3 credentials, ConnectStore fails at once with one line that names the
// missing variables, and starts no embedded stack.
func TestConnectStoreExternalNeedsS3(t *testing.T) {
	t.Setenv(devstack.EnvTemporalAddr, "127.0.0.1:1")
	t.Setenv("RULESCAPE_S3_ACCESS_KEY", "")
	t.Setenv("RULESCAPE_S3_SECRET_KEY", "")
	_, err := ConnectStore(t.Context(), Options{})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "RULESCAPE_S3_ACCESS_KEY") {
		t.Errorf("err = %v, want one line naming RULESCAPE_S3_ACCESS_KEY", err)
	}
}
