package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
)

// RemoveCheckpoint deletes an object under a campaign's checkpoints/
// prefix (CheckpointKey): a working object a computation no longer needs,
// such as a told metaopt batch. Removing an object that does not exist
// is not an error; any other key is refused.
func (s *Store) RemoveCheckpoint(ctx context.Context, key string) error {
	parts := strings.SplitN(key, "/", 4)
	if len(parts) != 4 || parts[0] != "campaigns" || parts[2] != "checkpoints" || parts[3] == "" {
		return fmt.Errorf("store: remove %q: not a checkpoint object (campaigns/<id>/checkpoints/…)", key)
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil && !IsNotFound(err) {
		return fmt.Errorf("store: removing %s: %w", key, err)
	}
	return nil
}
