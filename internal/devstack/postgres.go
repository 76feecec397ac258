//go:build !nodevstack

package devstack

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Defaults of a PostgreSQL store, as in docker-compose.yml.
const (
	pgDefaultDB     = "temporal"    // Temporal's main database
	pgVisibility    = "_visibility" // suffix of the visibility database
	pgAdminDB       = "postgres"    // connected to while creating the two
	pgDefaultPort   = "5432"
	pgHistoryShards = 4 // as docker-compose.yml's NUM_HISTORY_SHARDS
)

// postgresStore is where a Temporal server on PostgreSQL keeps its state:
// two databases (main and visibility) on one server.
type postgresStore struct {
	addr           string            // host:port
	user, password string            // login
	db, visDB      string            // database names
	attrs          map[string]string // connection attributes (the URL's query, e.g. sslmode)
}

// parsePostgresURL reads postgres://user:password@host[:port][/database][?attr=value…].
// The database names Temporal's main database (default "temporal"); the
// visibility database is its name with "_visibility" appended, as in
// docker-compose.yml. Both are created if missing.
func parsePostgresURL(s string) (*postgresStore, error) {
	bad := func(why string) error {
		return fmt.Errorf("devstack: Postgres URL %q: %s — write postgres://USER:PASSWORD@HOST:PORT[/DATABASE]", redactURL(s), why)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad(err.Error())
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, bad("the scheme is not postgres://")
	}
	if u.Hostname() == "" {
		return nil, bad("no host")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, bad("no user")
	}
	port := u.Port()
	if port == "" {
		port = pgDefaultPort
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = pgDefaultDB
	}
	if strings.ContainsAny(db, `/"`) {
		return nil, bad("the database name holds '/' or '\"'")
	}
	p := &postgresStore{
		addr:  net.JoinHostPort(u.Hostname(), port),
		user:  u.User.Username(),
		db:    db,
		visDB: db + pgVisibility,
		attrs: map[string]string{},
	}
	p.password, _ = u.User.Password()
	for k, v := range u.Query() {
		if len(v) != 1 {
			return nil, bad(fmt.Sprintf("attribute %q given %d times", k, len(v)))
		}
		p.attrs[k] = v[0]
	}
	return p, nil
}

// redactURL replaces the password of a URL by "xxxxx" for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// String is the store without its password, for logs.
func (p *postgresStore) String() string {
	return fmt.Sprintf("postgres://%s@%s/%s (+%s)", p.user, p.addr, p.db, p.visDB)
}

// sqlConfig is the server's configuration of database db.
func (p *postgresStore) sqlConfig(db string) *config.SQL {
	attrs := make(map[string]string, len(p.attrs))
	for k, v := range p.attrs {
		attrs[k] = v
	}
	return &config.SQL{
		PluginName:        pgplugin.PluginName,
		ConnectAddr:       p.addr,
		ConnectProtocol:   "tcp",
		User:              p.user,
		Password:          p.password,
		DatabaseName:      db,
		ConnectAttributes: attrs,
		MaxConns:          20,
		MaxIdleConns:      20,
	}
}

// preparePostgres does what docker-compose.yml's temporal-schema service
// does with temporal-sql-tool, with the same code: creates the main and
// visibility databases unless they exist, sets their schemas up at
// version 0.0 unless already set up, and applies the versioned updates
// embedded in the server module up to the server's version. Every step is
// a no-op on databases that are already current. It then registers ns.
func preparePostgres(p *postgresStore, ns string, logger tlog.Logger) (persistenceConf, error) {
	for _, d := range []struct{ db, schemaName, want string }{
		{p.db, "postgresql/v12/temporal", pgschema.Version},
		{p.visDB, "postgresql/v12/visibility", pgschema.VisibilityVersion},
	} {
		if err := setupPostgresDB(p.sqlConfig(d.db), d.schemaName, d.want, logger); err != nil {
			return persistenceConf{}, fmt.Errorf("devstack: Temporal database %q on %s: %w", d.db, p.addr, err)
		}
	}
	conf := persistenceConf{store: p.sqlConfig(p.db), visibility: p.sqlConfig(p.visDB), shards: pgHistoryShards}
	if err := registerNamespace(conf.store, ns); err != nil {
		return persistenceConf{}, err
	}
	return conf, nil
}

// setupPostgresDB runs temporal-sql-tool's create-database, setup-schema
// -v 0.0 and update-schema --schema-name schemaName on cfg's database and
// checks that its schema is then at version want.
func setupPostgresDB(cfg *config.SQL, schemaName, want string, logger tlog.Logger) error {
	admin := *cfg
	if err := sqltool.DoCreateDatabase(&admin, pgAdminDB, logger); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
		return fmt.Errorf("set the schema up: %w", err)
	}
	if err := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger).Run(); err != nil {
		return fmt.Errorf("update the schema: %w", err)
	}
	got, err := conn.ReadSchemaVersion()
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if got != want {
		return fmt.Errorf("schema at version %s after the update, but this server needs %s (a database of a newer Temporal?)", got, want)
	}
	return nil
}
