//go:build !nodevstack

package devstack

import (
	"maps"
	"testing"
)

func TestParsePostgresURL(t *testing.T) {
	for _, tc := range []struct {
		url                    string
		addr, user, pw, db, vi string
		attrs                  map[string]string
	}{
		{url: "postgres://temporal:temporal@127.0.0.1:15432", addr: "127.0.0.1:15432", user: "temporal", pw: "temporal", db: "temporal", vi: "temporal_visibility"},
		{url: "postgresql://u@db.example", addr: "db.example:5432", user: "u", db: "temporal", vi: "temporal_visibility"},
		{url: "postgres://u:p%40ss@[::1]:5433/rs_x?sslmode=require", addr: "[::1]:5433", user: "u", pw: "p@ss", db: "rs_x", vi: "rs_x_visibility",
			attrs: map[string]string{"sslmode": "require"}},
	} {
		p, err := parsePostgresURL(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if tc.attrs == nil {
			tc.attrs = map[string]string{}
		}
		if p.addr != tc.addr || p.user != tc.user || p.password != tc.pw || p.db != tc.db || p.visDB != tc.vi || !maps.Equal(p.attrs, tc.attrs) {
			t.Errorf("%s: got %+v", tc.url, p)
		}
		c := p.sqlConfig(p.visDB)
		if c.PluginName != "postgres12" || c.DatabaseName != tc.vi || c.ConnectAddr != tc.addr {
			t.Errorf("%s: config %+v", tc.url, c)
		}
	}
	for _, bad := range []string{"", "mysql://u@h", "postgres://h:1", "postgres://u@:1", "postgres://u@h/a/b", `postgres://u@h/a"b`, "postgres://u@h/x?a=1&a=2", "::"} {
		if _, err := parsePostgresURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
