// Package manifest is a campaign's manifest, campaigns/<id>/manifest.json:
// the authoritative index of the datasets a campaign's last completed run
// wrote or reused (a cache hit may live under another campaign's prefix),
// with the parameters of the unit behind each, the per-stage outcome, the
// engine version, the writing binary's revision and the campaign file as
// run.
//
// The campaign's manifest stage writes it with Write (activities.Manifest);
// everything that reads it — the report, `rulescape datasets`, `share`,
// `rerun`, `analyze` — goes through Read (from the store) or ReadFile (a
// downloaded copy), which give one set of errors: a campaign without a
// manifest, a file that is not JSON, a manifest of another campaign, or a
// manifest written by a newer rulescape.
//
// What a manifest lists can be listed with partitions (List,
// Entry.Partitions), downloaded with SHA-256 checks into a Hive-layout
// directory (Download) and shared as presigned URLs (Share, the share
// manifest of `rulescape share`).
//
// # Format and compatibility
//
// The JSON field names are a public format (DuckDB and pandas users read
// the file), so they never change. Manifest.Version is the format version:
// absent (0) in manifests written before the field existed, which have the
// layout of version 1. Adding a field is compatible (older readers ignore
// it) and keeps the version; Version is raised only when the meaning of an
// existing field changes, and Read refuses a version newer than
// CurrentVersion instead of misreading it.
package manifest
