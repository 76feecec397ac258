//go:build !nodevstack

package devstack_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	sqltool "go.temporal.io/server/tools/sql"

	"rulescape/internal/devstack"
	"rulescape/internal/pgtest"
)

// TestPostgresStackWorkflowAndRestart runs the embedded stack with its
// Temporal state in PostgreSQL: the two databases get the schema version
// of this server, a workflow runs, and a stack on another home (no SQLite
// file in either) started on the same databases finds the workflow and
// runs new ones — the state lives in PostgreSQL, and setting the schema up
// again on current databases changes nothing.
func TestPostgresStackWorkflowAndRestart(t *testing.T) {
	needGateway(t)
	pg := pgtest.Database(t)
	home := t.TempDir()
	st := startOpts(t, devstack.Options{Home: home, Postgres: pg})
	c := temporalClient(t, st)
	if got, want := runGreet(t, c, "greet-pg-1"), "HELLO RULESCAPE!"; got != want {
		t.Fatalf("workflow result %q, want %q", got, want)
	}
	for db, want := range map[string]string{"": pgschema.Version, "_visibility": pgschema.VisibilityVersion} {
		if got := schemaVersion(t, pg, db); got != want {
			t.Errorf("schema version of the %q database: %s, want %s", db, got, want)
		}
	}
	c.Close()
	if err := st.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	home2 := t.TempDir()
	st2 := startOpts(t, devstack.Options{Home: home2, Postgres: pg})
	c2 := temporalClient(t, st2)
	ctx := context.Background()
	desc, err := c2.DescribeWorkflowExecution(ctx, "greet-pg-1", "")
	if err != nil {
		t.Fatalf("describe the workflow on the second stack: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("workflow status on the second stack %v, want COMPLETED", s)
	}
	if got := runGreet(t, c2, "greet-pg-2"); got != "HELLO RULESCAPE!" {
		t.Errorf("second workflow result %q", got)
	}
	for _, h := range []string{home, home2} {
		if _, err := os.Stat(filepath.Join(h, "temporal.db")); err == nil {
			t.Errorf("%s has a SQLite database although the state is in PostgreSQL", h)
		}
	}
}

// schemaVersion reads the schema version Temporal recorded in the
// database of pg (a URL with a database) with suffix appended to its name.
func schemaVersion(t *testing.T, pg, suffix string) string {
	t.Helper()
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	cfg := &config.SQL{PluginName: pgplugin.PluginName, ConnectAddr: u.Host, User: u.User.Username(), Password: pw,
		DatabaseName: strings.TrimPrefix(u.Path, "/") + suffix}
	conn, err := sqltool.NewConnection(cfg, tlog.NewNoopLogger())
	if err != nil {
		t.Fatalf("connect to %s: %v", cfg.DatabaseName, err)
	}
	defer conn.Close()
	v, err := conn.ReadSchemaVersion()
	if err != nil {
		t.Fatalf("schema version of %s: %v", cfg.DatabaseName, err)
	}
	return v
}

// TestPostgresBadURL: a malformed URL fails Start with one line naming
// the option and the form to write, without the password.
func TestPostgresBadURL(t *testing.T) {
	for _, u := range []string{"mysql://u:secret@h:1/x", "postgres://h:1", "postgres://u:secret@:5432", "postgres://u:secret@h/a/b"} {
		_, err := devstack.Start(context.Background(), devstack.Options{Home: t.TempDir(), Postgres: u})
		if err == nil {
			t.Errorf("%s: Start succeeded", u)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "postgres://USER:PASSWORD@HOST:PORT") || strings.Contains(msg, "secret") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q should be one line naming the form, without the password", u, msg)
		}
	}
}
