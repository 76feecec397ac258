//go:build !nodevstack

package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// temporalPorts are the listening ports of one in-process server.
type temporalPorts struct {
	frontend, http, history, matching, worker int
}

// temporalServer is the in-process Temporal server.
type temporalServer struct {
	srv      temporal.Server
	logLevel *slog.LevelVar // Temporal's log threshold
	frontend string         // host:port of the gRPC frontend
	http     string         // host:port of the HTTP API
}

// temporalStore is where the embedded server keeps its state: a SQLite
// file, or a PostgreSQL server when postgres is set.
type temporalStore struct {
	sqlite   string         // SQLite database file, when postgres is nil
	postgres *postgresStore // PostgreSQL databases
}

// String describes the store for logs (no password).
func (s temporalStore) String() string {
	if s.postgres != nil {
		return s.postgres.String()
	}
	return "sqlite " + s.sqlite
}

// persistenceConf is the server's persistence: the main and visibility
// stores (the same for SQLite) and the number of history shards, fixed
// when the database is created.
type persistenceConf struct {
	store, visibility *config.SQL
	shards            int32
}

// prepare creates the schema and registers ns in the store.
func (s temporalStore) prepare(ns string, log *slog.Logger) (persistenceConf, error) {
	if s.postgres != nil {
		level := new(slog.LevelVar)
		level.Set(slog.LevelWarn)
		return preparePostgres(s.postgres, ns, slogTemporal{log: log, min: level})
	}
	dbPath := s.sqlite
	if strings.ContainsAny(dbPath, "?#") {
		return persistenceConf{}, fmt.Errorf("devstack: state directory path %q contains '?' or '#', which SQLite file URIs cannot hold — choose another %s", dbPath, EnvHome)
	}
	sqlConf, err := prepareSQLite(dbPath, ns)
	if err != nil {
		return persistenceConf{}, err
	}
	return persistenceConf{store: sqlConf, visibility: sqlConf, shards: 1}, nil
}

// startTemporal starts a Temporal server on store (SQLite or PostgreSQL)
// with namespace ns registered, preferring the frontend and HTTP ports of
// the previous run, and retrying with fresh ports when a bind fails.
func startTemporal(store temporalStore, ns string, prefer temporalPorts, log *slog.Logger) (*temporalServer, error) {
	pconf, err := store.prepare(ns, log)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			prefer = temporalPorts{}
		}
		p, err := pickPorts(prefer.frontend, prefer.http, 0, 0, 0)
		if err != nil {
			return nil, err
		}
		ports := temporalPorts{frontend: p[0], http: p[1], history: p[2], matching: p[3], worker: p[4]}
		level := new(slog.LevelVar)
		level.Set(slog.LevelWarn)
		srv, err := newTemporal(pconf, ports, slogTemporal{log: log, min: level})
		if err != nil {
			return nil, err
		}
		if err := srv.Start(); err != nil {
			_ = srv.Stop()
			if strings.Contains(err.Error(), "address already in use") {
				lastErr = err
				log.Debug("devstack: Temporal port taken, retrying", "error", err)
				continue
			}
			return nil, fmt.Errorf("devstack: start Temporal server: %w", err)
		}
		return &temporalServer{
			srv:      srv,
			logLevel: level,
			frontend: hostPort(ports.frontend),
			http:     hostPort(ports.http),
		}, nil
	}
	return nil, fmt.Errorf("devstack: Temporal server could not bind its ports after 3 attempts: %w", lastErr)
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// prepareSQLite creates the schema when the database file is new and
// registers ns (a no-op when it exists), before the server opens it.
func prepareSQLite(dbPath, ns string) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		// rwc: read, write, create. WAL lets readers run beside the single
		// writer; busy_timeout waits for the lock instead of failing.
		// synchronous=normal syncs the log at checkpoints, not at every
		// commit: the database survives any crash of the process, and an
		// OS crash or power cut can lose only the last transactions, whose
		// activities then run again and find their datasets committed
		// (64 workers × 640 units of 1 s: efficiency 0.81-0.87, from
		// 0.76-0.86 with a sync per commit). The Temporal plugin's one
		// connection stays: with more, SQLite refuses writers ("database
		// is locked") under the load test.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal", "busy_timeout": "10000"},
	}
	if !fileExists(dbPath) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("devstack: create Temporal schema in %s: %w", dbPath, err)
		}
	}
	if err := registerNamespace(conf, ns); err != nil {
		return nil, err
	}
	return conf, nil
}

// registerNamespace writes namespace ns into the main store unless it
// exists, before the server opens it (so that it is there from the
// server's first answer, unlike one registered through the API). The
// helper is the SQLite schema package's but works on any SQL store.
func registerNamespace(conf *config.SQL, ns string) error {
	nsConf, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, nil)
	if err != nil {
		return fmt.Errorf("devstack: namespace %q: %w", ns, err)
	}
	if err := sqliteschema.CreateNamespaces(conf, nsConf); err != nil {
		return fmt.Errorf("devstack: register namespace %q in %s: %w", ns, conf.DatabaseName, err)
	}
	return nil
}

// newTemporal builds (does not start) a single-process server with all
// four services on 127.0.0.1, configured like the Temporal CLI's dev server.
func newTemporal(pc persistenceConf, p temporalPorts, logger slogTemporal) (temporal.Server, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = "127.0.0.1"
	conf.Persistence.NumHistoryShards = pc.shards
	if pc.visibility == pc.store { // SQLite: one database
		conf.Persistence.DefaultStore = "sqlite"
		conf.Persistence.VisibilityStore = "sqlite"
		conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: pc.store}}
	} else {
		conf.Persistence.DefaultStore = "default"
		conf.Persistence.VisibilityStore = "visibility"
		conf.Persistence.DataStores = map[string]config.DataStore{"default": {SQL: pc.store}, "visibility": {SQL: pc.visibility}}
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hostPort(p.frontend),
				HTTPAddress:            hostPort(p.http),
				// Replaced by the ID stored in the database after the first start.
				ClusterID: uuid.NewString(),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(port, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = port
		s.RPC.BindOnIP = "127.0.0.1"
		s.RPC.HTTPPort = httpPort
		return s
	}
	conf.Services = map[string]config.Service{
		string(primitives.FrontendService): svc(p.frontend, p.http),
		string(primitives.HistoryService):  svc(p.history, 0),
		string(primitives.MatchingService): svc(p.matching, 0),
		string(primitives.WorkerService):   svc(p.worker, 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = hostPort(p.frontend)

	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devstack: Temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("devstack: Temporal claim mapper: %w", err)
	}
	// One partition per task queue: the dev server is one matching host, so
	// Temporal's default of 4 partitions only adds forwarding between them
	// (one worker's serial units: 11.7 units/s with 4, 21 with 1).
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():           1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key():          1,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(&conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: static.SingleLocalHost(hostPort(p.frontend)),
			primitives.HistoryService:  static.SingleLocalHost(hostPort(p.history)),
			primitives.MatchingService: static.SingleLocalHost(hostPort(p.matching)),
			primitives.WorkerService:   static.SingleLocalHost(hostPort(p.worker)),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("devstack: configure Temporal server: %w", err)
	}
	return srv, nil
}

// waitNamespace polls until a client on addr can describe ns: the
// frontend is up and the namespace registry has loaded ns.
func waitNamespace(ctx context.Context, addr, ns string, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lastErr error
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		lastErr = describeNamespace(ctx, addr, ns, log)
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devstack: Temporal on %s did not describe namespace %q in time: %w", addr, ns, errors.Join(ctx.Err(), lastErr))
		case <-time.After(delay):
		}
	}
}

// describeNamespace dials addr once and describes ns.
func describeNamespace(ctx context.Context, addr, ns string, log *slog.Logger) error {
	c, err := sdkclient.Dial(sdkclient.Options{
		HostPort:  addr,
		Namespace: ns,
		Logger:    sdklog.NewStructuredLogger(quiet(log)),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	return err
}

// quiet returns log restricted to warnings and errors.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{Handler: log.Handler(), min: slog.LevelWarn})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(a), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// stop stops the server. Its shutdown makes internal pollers and clients
// warn about closed connections, so only errors are logged from here on.
func (t *temporalServer) stop() error {
	t.logLevel.Set(slog.LevelError)
	return t.srv.Stop()
}

// slogTemporal is Temporal's log.Logger writing to slog at min and above
// (warn while running: the server is chatty at info); panics and fatals
// become errors.
type slogTemporal struct {
	log *slog.Logger
	min *slog.LevelVar
}

var _ tlog.Logger = slogTemporal{}

func (s slogTemporal) Debug(string, ...tag.Tag)           {}
func (s slogTemporal) Info(string, ...tag.Tag)            {}
func (s slogTemporal) Warn(msg string, tags ...tag.Tag)   { s.emit(slog.LevelWarn, msg, tags) }
func (s slogTemporal) Error(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogTemporal) DPanic(msg string, tags ...tag.Tag) { s.emit(slog.LevelError, msg, tags) }
func (s slogTemporal) Panic(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogTemporal) Fatal(msg string, tags ...tag.Tag)  { s.emit(slog.LevelError, msg, tags) }
func (s slogTemporal) With(tags ...tag.Tag) tlog.Logger {
	return slogTemporal{log: s.log.With(attrs(tags)...), min: s.min}
}

// benignServerErrors are messages the server logs at error level that
// need no action in the embedded stack: its services add metric counters
// to each response's gRPC trailer, which fails when the response has gone
// (a cancelled long poll, a client that hung up); the dev server exports no
// metrics.
var benignServerErrors = map[string]bool{
	"unable to add metrics baggage to gRPC trailer": true,
}

func (s slogTemporal) emit(l slog.Level, msg string, tags []tag.Tag) {
	if benignServerErrors[msg] {
		return
	}
	if l >= s.min.Level() && s.log.Enabled(context.Background(), l) {
		s.log.Log(context.Background(), l, "temporal: "+msg, attrs(tags)...)
	}
}

func attrs(tags []tag.Tag) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = slog.Any(t.Key(), t.Value())
	}
	return out
}
