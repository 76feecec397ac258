// Package store keeps rulescape's datasets in S3-compatible object storage
// (MinIO, versitygw, AWS S3) through minio-go.
//
// # Layout
//
// Objects live in one bucket under Hive-style keys, so that DuckDB, polars
// and pyarrow can read a whole stage with one glob:
//
//	campaigns/<campaign>/manifest.json
//	campaigns/<campaign>/<stage>/<dataset>/task=<t>/rule=<r>/seed=<s>/part-<content key>.parquet
//	campaigns/<campaign>/checkpoints/<name>
//	campaigns/<campaign>/report/<file>
//	commits/<content key>.json                      commit markers
//
// Partition values are escaped the way Hive escapes them (%XX for '/', '=',
// '%', … ); campaign, stage, dataset and partition names are restricted to
// letters, digits, '.', '_' and '-'. DatasetPath.Key, ManifestKey,
// CheckpointKey and ReportKey build the keys; ParseKey (ParseDatasetKey)
// reads them back, so no caller has to take a key apart by hand.
//
// # Content keys and the commit protocol
//
// Every unit of work has a content key: the hex SHA-256 of the canonical JSON
// of its parameters, the digests of its input datasets and the engine
// version (ContentKey). A dataset is committed in two steps:
//
//  1. its data object is streamed to S3 (Parquet writer → io.Pipe →
//     multipart upload, no temporary file) while its SHA-256 and size are
//     computed;
//  2. a small JSON commit marker (key, sha256, rows, schema, size, etag) is
//     written to commits/<content key>.json, last.
//
// Readers trust only committed datasets: Lookup returns a dataset only if its
// marker exists and the data object's size and ETag match it, and List
// returns only data objects that have a matching marker. An upload that is
// interrupted never creates its object (S3 publishes an object only when the
// upload completes) and never writes a marker; a retry overwrites whatever
// was there and commits. A data object without a marker (a crash between
// the two steps) is ignored until then.
//
// Only the small DatasetRef travels between processes (through Temporal).
package store
