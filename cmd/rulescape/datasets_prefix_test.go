package main

import (
	"strings"
	"testing"
)

// TestOwnPrefix: a dataset another campaign computed (a cache hit) is
// downloaded under the campaign's own prefix, keeping its layout.
func TestOwnPrefix(t *testing.T) {
	k1, k2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	for _, tc := range []struct{ key, want string }{
		{"campaigns/aaaa/train/networks/task=dnms/rule=miconi/seed=1/part-" + k1 + ".parquet", "campaigns/bbbb/train/networks/task=dnms/rule=miconi/seed=1/part-" + k1 + ".parquet"},
		{"campaigns/bbbb/rsa/rsa_pairs/task=dnms/part-" + k2 + ".parquet", "campaigns/bbbb/rsa/rsa_pairs/task=dnms/part-" + k2 + ".parquet"},
		{"campaigns/aaaa", "campaigns/aaaa"},
		{"other/x.parquet", "other/x.parquet"},
		{"campaigns/aaaa/train/networks/part-k1.parquet", "campaigns/aaaa/train/networks/part-k1.parquet"}, // not a dataset key
	} {
		if got := ownPrefix(tc.key, "bbbb"); got != tc.want {
			t.Errorf("ownPrefix(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
