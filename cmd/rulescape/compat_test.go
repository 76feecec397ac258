package main

import (
	"context"

	"rulescape/manifest"
	"rulescape/store"
)

// localPath and download moved to package manifest; analyze_test.go still
// calls them by their old names.
func localPath(dir, key string) (string, error) { return manifest.LocalPath(dir, key) }

func download(ctx context.Context, st *store.Store, ref store.DatasetRef, local string) error {
	return manifest.DownloadFile(ctx, st, ref, local)
}
