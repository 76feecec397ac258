package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v3"

	"rulescape/store"
)

// The services of docker-compose.yml. One-shot services run a setup step,
// exit 0 and are waited for with service_completed_successfully; every other
// service runs for the life of the stack.
var (
	longRunning = []string{"postgresql", "temporal", "temporal-ui", "minio", "worker"}
	oneShot     = []string{"temporal-schema", "temporal-namespace", "minio-bucket"}
)

// workerEnv is exactly what the worker is given: the Temporal client's
// connection variables (the SDK's envconfig names) and the store package's
// variables, each with its value under the default environment.
var workerEnv = map[string]string{
	"TEMPORAL_ADDRESS":   "temporal:7233",
	"TEMPORAL_NAMESPACE": "default",
	store.EnvEndpoint:    "minio:9000",
	store.EnvAccessKey:   "rulescape",
	store.EnvSecretKey:   "rulescape-secret",
	store.EnvBucket:      "rulescape",
	store.EnvSecure:      "false",
}

// repoRoot is the directory holding docker-compose.yml and the Dockerfile.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadProject loads docker-compose.yml as `docker compose` would with the
// given variables set (nil: none, so every ${VAR:-default} takes its
// default). Paths are left as written in the file.
func loadProject(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping(env),
	}
	if details.Environment == nil {
		details.Environment = types.Mapping{}
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("rulescape", true)
		o.ResolvePaths = false
	})
	if err != nil {
		t.Fatalf("docker-compose.yml does not load with the Compose loader: %v", err)
	}
	return p
}

// service returns the named service or stops the test.
func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml: service %q is missing", name)
	}
	return s
}

// env returns the value of a service's environment variable, "" if unset.
func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t, nil)
	want := append(slices.Clone(longRunning), oneShot...)
	sort.Strings(want)
	got := p.ServiceNames()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("docker-compose.yml: services %v, want %v", got, want)
	}
	if p.Name != "rulescape" {
		t.Errorf("docker-compose.yml: project name %q, want rulescape", p.Name)
	}
	for _, name := range got {
		if s := service(t, p, name); s.ContainerName != "" {
			t.Errorf("service %q: container_name %q: remove it (fixed names clash between projects and forbid --scale)", name, s.ContainerName)
		}
	}
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadProject(t, nil)
	for _, name := range p.ServiceNames() {
		s := service(t, p, name)
		if name == "worker" {
			if s.Build == nil {
				t.Errorf("service %q: build: missing, the worker is built from the repository's Dockerfile", name)
			}
			if s.Image != "" {
				t.Errorf("service %q: image %q: want none, the worker is built, not pulled", name, s.Image)
			}
			continue
		}
		if s.Build != nil {
			t.Errorf("service %q: build: want none, only the worker is built", name)
		}
		if err := checkPinned(s.Image); err != nil {
			t.Errorf("service %q: image: %v", name, err)
		}
	}
}

// checkPinned accepts an image reference with an explicit tag other than
// latest, or with a digest.
func checkPinned(image string) error {
	if image == "" {
		return fmt.Errorf("no image")
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return fmt.Errorf("%q is not an image reference: %v", image, err)
	}
	if _, ok := ref.(reference.Digested); ok {
		return nil
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok {
		return fmt.Errorf("%q has no tag: pin it, e.g. %s:<version>", image, image)
	}
	if tagged.Tag() == "latest" {
		return fmt.Errorf("%q: latest is not a pin, use a version tag", image)
	}
	return nil
}

func TestComposePorts(t *testing.T) {
	// Published ports per service; every service not listed publishes none
	// (the worker in particular, so that --scale works).
	want := map[string][]uint32{
		"temporal":    {7233},
		"temporal-ui": {8080},
		"minio":       {9000, 9001},
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		hostIP string
	}{
		{"default: this machine only", nil, "127.0.0.1"},
		{"RULESCAPE_PUBLISH_ADDR=0.0.0.0", map[string]string{"RULESCAPE_PUBLISH_ADDR": "0.0.0.0"}, "0.0.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadProject(t, tc.env)
			for _, name := range p.ServiceNames() {
				s := service(t, p, name)
				var got []uint32
				for _, port := range s.Ports {
					got = append(got, port.Target)
					if port.Published != strconv.Itoa(int(port.Target)) {
						t.Errorf("service %q: ports: container port %d published on host port %q, want %d", name, port.Target, port.Published, port.Target)
					}
					if port.HostIP != tc.hostIP {
						t.Errorf("service %q: ports: %d published on address %q, want %q", name, port.Target, port.HostIP, tc.hostIP)
					}
					if port.Protocol != "" && port.Protocol != "tcp" {
						t.Errorf("service %q: ports: %d protocol %q, want tcp", name, port.Target, port.Protocol)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want[name]) {
					t.Errorf("service %q: ports: publishes %v, want %v", name, got, want[name])
				}
			}
		})
	}
}

func TestComposeVolumes(t *testing.T) {
	p := loadProject(t, nil)
	for _, tc := range []struct{ service, volume, target string }{
		{"postgresql", "postgresql-data", "/var/lib/postgresql/data"},
		{"minio", "minio-data", "/data"},
	} {
		s := service(t, p, tc.service)
		if _, ok := p.Volumes[tc.volume]; !ok {
			t.Errorf("docker-compose.yml: volumes: %q is not declared at the top level", tc.volume)
		}
		i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == tc.target })
		if i < 0 {
			t.Errorf("service %q: volumes: nothing mounted at %s, want named volume %q", tc.service, tc.target, tc.volume)
			continue
		}
		v := s.Volumes[i]
		if v.Type != types.VolumeTypeVolume || v.Source != tc.volume {
			t.Errorf("service %q: volumes: %s is a %s from %q, want named volume %q", tc.service, tc.target, v.Type, v.Source, tc.volume)
		}
		if v.ReadOnly {
			t.Errorf("service %q: volumes: %s is read-only, the data must be writable", tc.service, tc.target)
		}
	}
	for _, name := range []string{"worker", "temporal"} {
		if s := service(t, p, name); len(s.Volumes) != 0 {
			t.Errorf("service %q: volumes: %d mounted, want none (state lives in PostgreSQL and MinIO)", name, len(s.Volumes))
		}
	}
}

func TestComposeHealthAndRestart(t *testing.T) {
	p := loadProject(t, nil)
	// What each health check probes: a word its command must contain.
	probes := map[string]string{
		"postgresql":  "pg_isready",
		"temporal":    "7233",
		"temporal-ui": "/healthz",
		"minio":       "ready local",
	}
	for _, name := range longRunning {
		s := service(t, p, name)
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("service %q: restart %q, want %s", name, s.Restart, types.RestartPolicyUnlessStopped)
		}
		if name == "worker" {
			continue // nothing waits on workers, and the binary has no probe
		}
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Errorf("service %q: healthcheck: missing or disabled, other services wait for it to be healthy", name)
			continue
		}
		if hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL" {
			t.Errorf("service %q: healthcheck: test %q, want CMD or CMD-SHELL first", name, hc.Test)
		}
		if cmd := strings.Join(hc.Test[1:], " "); !strings.Contains(cmd, probes[name]) {
			t.Errorf("service %q: healthcheck: test %q does not probe %q", name, cmd, probes[name])
		}
		for field, d := range map[string]*types.Duration{"interval": hc.Interval, "timeout": hc.Timeout} {
			if d == nil || *d <= 0 {
				t.Errorf("service %q: healthcheck: %s not set", name, field)
			}
		}
		if hc.Retries == nil || *hc.Retries == 0 {
			t.Errorf("service %q: healthcheck: retries not set", name)
		}
	}
	for _, name := range oneShot {
		s := service(t, p, name)
		if !strings.HasPrefix(s.Restart, types.RestartPolicyOnFailure) {
			t.Errorf("service %q: restart %q, want on-failure[:N] (a one-shot must stop once it succeeded)", name, s.Restart)
		}
		if len(s.Ports) != 0 {
			t.Errorf("service %q: ports: a one-shot publishes none", name)
		}
	}
}

func TestComposeDependsOn(t *testing.T) {
	p := loadProject(t, nil)
	const (
		healthy   = types.ServiceConditionHealthy
		completed = types.ServiceConditionCompletedSuccessfully
	)
	want := map[string]map[string]string{
		"postgresql":         {},
		"temporal-schema":    {"postgresql": healthy},
		"temporal":           {"postgresql": healthy, "temporal-schema": completed},
		"temporal-namespace": {"temporal": healthy},
		"temporal-ui":        {"temporal": healthy},
		"minio":              {},
		"minio-bucket":       {"minio": healthy},
		"worker": {
			"temporal": healthy, "temporal-namespace": completed,
			"minio": healthy, "minio-bucket": completed,
		},
	}
	for name, deps := range want {
		s := service(t, p, name)
		for dep, cond := range deps {
			d, ok := s.DependsOn[dep]
			switch {
			case !ok:
				t.Errorf("service %q: depends_on: %q missing, want condition %s", name, dep, cond)
			case d.Condition != cond:
				t.Errorf("service %q: depends_on: %q condition %q, want %s", name, dep, d.Condition, cond)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := deps[dep]; !ok {
				t.Errorf("service %q: depends_on: %q not expected", name, dep)
			}
		}
	}
}

func TestComposeWorker(t *testing.T) {
	p := loadProject(t, nil)
	const name = "worker"
	s := service(t, p, name)
	if s.Build == nil {
		t.Fatalf("service %q: build: missing", name)
	}
	if s.Build.Context != "." {
		t.Errorf("service %q: build.context %q, want \".\" (the repository root)", name, s.Build.Context)
	}
	if s.Build.Dockerfile != "Dockerfile" {
		t.Errorf("service %q: build.dockerfile %q, want Dockerfile", name, s.Build.Dockerfile)
	}
	if _, err := os.Stat(filepath.Join(repoRoot(t), s.Build.Dockerfile)); err != nil {
		t.Errorf("service %q: build.dockerfile: %v", name, err)
	}
	if tags := s.Build.Args["TAGS"]; tags == nil || *tags != "nodevstack" {
		t.Errorf("service %q: build.args.TAGS = %v, want nodevstack by default (workers use the stack's services, not the embedded ones)", name, tags)
	}
	if !slices.Equal(s.Command, types.ShellCommand{"worker"}) {
		t.Errorf("service %q: command %q, want [worker] (the image's entry point is /rulescape)", name, s.Command)
	}
	if s.Entrypoint != nil {
		t.Errorf("service %q: entrypoint %q, want the image's (/rulescape)", name, s.Entrypoint)
	}
	if s.Scale != nil || (s.Deploy != nil && s.Deploy.Replicas != nil) {
		t.Errorf("service %q: a fixed scale or deploy.replicas would fight --scale; leave both unset", name)
	}
	if len(s.EnvFiles) != 0 {
		t.Errorf("service %q: env_file: want the environment spelled out in docker-compose.yml", name)
	}

	var got []string
	for k := range s.Environment {
		got = append(got, k)
	}
	sort.Strings(got)
	var wantKeys []string
	for k := range workerEnv {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(wantKeys)
	if !slices.Equal(got, wantKeys) {
		t.Errorf("service %q: environment has %v, want exactly %v", name, got, wantKeys)
	}
	for k, v := range workerEnv {
		if g := env(s, k); g != v {
			t.Errorf("service %q: environment %s=%q, want %q", name, k, g, v)
		}
	}

	// The store package accepts the worker's S3 settings as given.
	for k := range workerEnv {
		t.Setenv(k, env(s, k))
	}
	t.Setenv(store.EnvRegion, "")
	cfg, err := store.ConfigFromEnv()
	if err != nil {
		t.Fatalf("service %q: environment: store.ConfigFromEnv: %v", name, err)
	}
	if cfg.Endpoint != "minio:9000" || cfg.Secure || cfg.Bucket != "rulescape" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		t.Errorf("service %q: environment gives store config %v, want endpoint minio:9000, plain HTTP, bucket rulescape, both keys", name, cfg)
	}
}

// TestComposeSettingsAgree checks that a value given once as a variable
// reaches every service that needs it, so that, e.g., the worker signs in to
// MinIO with MinIO's own root credentials.
func TestComposeSettingsAgree(t *testing.T) {
	custom := map[string]string{
		"RULESCAPE_S3_ACCESS_KEY": "alice",
		"RULESCAPE_S3_SECRET_KEY": "a-long-secret",
		"RULESCAPE_S3_BUCKET":     "lab-datasets",
		"TEMPORAL_NAMESPACE":      "campaigns",
		"POSTGRES_USER":           "tuser",
		"POSTGRES_PASSWORD":       "tpass",
	}
	type setting struct{ service, key string }
	groups := []struct {
		variable string
		uses     []setting
	}{
		{"RULESCAPE_S3_ACCESS_KEY", []setting{{"minio", "MINIO_ROOT_USER"}, {"minio-bucket", "ACCESS_KEY"}, {"worker", store.EnvAccessKey}}},
		{"RULESCAPE_S3_SECRET_KEY", []setting{{"minio", "MINIO_ROOT_PASSWORD"}, {"minio-bucket", "SECRET_KEY"}, {"worker", store.EnvSecretKey}}},
		{"RULESCAPE_S3_BUCKET", []setting{{"minio-bucket", "BUCKET"}, {"worker", store.EnvBucket}}},
		{"TEMPORAL_NAMESPACE", []setting{{"temporal-namespace", "NAMESPACE"}, {"temporal-ui", "TEMPORAL_DEFAULT_NAMESPACE"}, {"worker", "TEMPORAL_NAMESPACE"}}},
		{"POSTGRES_USER", []setting{{"postgresql", "POSTGRES_USER"}, {"temporal-schema", "SQL_USER"}, {"temporal", "POSTGRES_USER"}}},
		{"POSTGRES_PASSWORD", []setting{{"postgresql", "POSTGRES_PASSWORD"}, {"temporal-schema", "SQL_PASSWORD"}, {"temporal", "POSTGRES_PWD"}}},
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{{"defaults", nil}, {"custom", custom}} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadProject(t, tc.env)
			for _, g := range groups {
				var first setting
				var value string
				for i, u := range g.uses {
					v := env(service(t, p, u.service), u.key)
					if v == "" {
						t.Errorf("service %q: environment %s is empty, want ${%s}", u.service, u.key, g.variable)
						continue
					}
					if i == 0 {
						first, value = u, v
					} else if v != value {
						t.Errorf("service %q: environment %s=%q, but service %q has %s=%q: both must come from ${%s}", u.service, u.key, v, first.service, first.key, value, g.variable)
					}
					if want, ok := tc.env[g.variable]; ok && v != want {
						t.Errorf("service %q: environment %s=%q, want %q from %s", u.service, u.key, v, want, g.variable)
					}
				}
			}
			if n := len(env(service(t, p, "minio"), "MINIO_ROOT_PASSWORD")); n < 8 {
				t.Errorf("service \"minio\": environment MINIO_ROOT_PASSWORD has %d characters, MinIO wants at least 8", n)
			}
		})
	}
}

func TestComposeTemporalDynamicConfig(t *testing.T) {
	p := loadProject(t, nil)
	const name = "temporal"
	s := service(t, p, name)
	path := env(s, "DYNAMIC_CONFIG_FILE_PATH")
	if path == "" {
		t.Fatalf("service %q: environment DYNAMIC_CONFIG_FILE_PATH is empty; the server refuses to start without a dynamic config file", name)
	}
	i := slices.IndexFunc(s.Configs, func(c types.ServiceConfigObjConfig) bool { return c.Target == path })
	if i < 0 {
		t.Fatalf("service %q: configs: nothing mounted at %s (DYNAMIC_CONFIG_FILE_PATH); the image ships no such file", name, path)
	}
	src := s.Configs[i].Source
	cfg, ok := p.Configs[src]
	if !ok {
		t.Fatalf("docker-compose.yml: configs: %q used by service %q is not declared", src, name)
	}
	var m map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	if err := yaml.Unmarshal([]byte(cfg.Content), &m); err != nil {
		t.Errorf("docker-compose.yml: configs: %q: want a map of key → [{value, constraints}] (Temporal dynamic config): %v", src, err)
	}
	for _, k := range []string{"DB", "POSTGRES_SEEDS", "BIND_ON_IP"} {
		if env(s, k) == "" {
			t.Errorf("service %q: environment %s is empty", name, k)
		}
	}
	if got := env(s, "DB"); got != "postgres12" {
		t.Errorf("service %q: environment DB=%q, want postgres12", name, got)
	}
	if got := env(s, "POSTGRES_SEEDS"); got != "postgresql" {
		t.Errorf("service %q: environment POSTGRES_SEEDS=%q, want the postgresql service", name, got)
	}
}
