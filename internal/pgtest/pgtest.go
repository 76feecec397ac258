// Package pgtest gives tests a PostgreSQL server to run Temporal on: the
// server named by $RULESCAPE_TEST_POSTGRES (.ci/postgres starts a
// throwaway one and prints its URL), with databases of their own.
//
// Without that variable the tests are skipped loudly, or fail when
// RULESCAPE_REQUIRE_POSTGRES=1 (as in CI).
package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	sqltool "go.temporal.io/server/tools/sql"
)

// Environment variables read by the tests.
const (
	// EnvURL is the URL of a PostgreSQL server on which the tests may
	// create and drop databases: postgres://USER:PASSWORD@HOST:PORT.
	EnvURL = "RULESCAPE_TEST_POSTGRES"
	// EnvRequire set to 1 makes a missing server fail the tests.
	EnvRequire = "RULESCAPE_REQUIRE_POSTGRES"
)

// Required reports whether RULESCAPE_REQUIRE_POSTGRES=1.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// SkipOrFail skips t loudly because of err, or fails it when Required.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s=1 but there is no PostgreSQL server for the test: %v", EnvRequire, err)
	}
	t.Skipf("!!! SKIPPING a test that needs PostgreSQL: %v (run `.ci/postgres` and set %s to the URL it prints; %s=1 fails instead)", err, EnvURL, EnvRequire)
}

// Server returns the server URL of $RULESCAPE_TEST_POSTGRES, without a
// database, or skips (or fails) t.
func Server(t testing.TB) string {
	t.Helper()
	s := os.Getenv(EnvURL)
	if s == "" {
		SkipOrFail(t, errors.New(EnvURL+" is not set"))
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "postgres" || u.Host == "" {
		t.Fatalf("%s=%q: want postgres://USER:PASSWORD@HOST:PORT", EnvURL, s)
	}
	u.Path, u.RawQuery = "", ""
	return u.String()
}

// Database returns a URL for Temporal's databases on the test server:
// the server URL with a database name of its own (the embedded stack
// creates it and its _visibility twin). Both are dropped when t ends,
// after the cleanups registered later (e.g. stopping the stack) ran.
func Database(t testing.TB) string {
	t.Helper()
	server := Server(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "rs_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		for _, db := range []string{name, name + "_visibility"} {
			if err := drop(server, db); err != nil {
				t.Logf("pgtest: dropping database %s: %v", db, err)
			}
		}
	})
	return server + "/" + name
}

// drop drops database db on server unless it is missing.
func drop(server, db string) error {
	u, err := url.Parse(server)
	if err != nil {
		return err
	}
	pw, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	cfg := &config.SQL{
		PluginName:   pgplugin.PluginName,
		ConnectAddr:  u.Hostname() + ":" + port,
		User:         u.User.Username(),
		Password:     pw,
		DatabaseName: db,
	}
	if err := sqltool.DoDropDatabase(cfg, "postgres", tlog.NewNoopLogger()); err != nil && !strings.Contains(err.Error(), "does not exist") {
		return fmt.Errorf("drop %s: %w", db, err)
	}
	return nil
}
