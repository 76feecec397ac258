// Package schemas defines the datasets rulescape writes: one Arrow schema per
// dataset kind, typed Go row structs, and writers and readers for Parquet
// (zstd) and Arrow IPC (LZ4 frame), so that callers never touch Arrow.
//
// # Kinds and rows
//
// Every dataset kind has a row struct whose fields map one to one onto columns:
//
//	learning_curves  LearningCurveRow   one row per learning trial of one network
//	networks         NetworkRow         one row per trained network (W⁰, final W, W_in, W_out, b)
//	trajectories     TrajectoryRow      condition-averaged states, one row per (condition, t)
//	metaopt_history  MetaoptRow         one row per meta-optimization iteration, then one for the final Θ
//	fixed_points     FixedPointRow      one row per fixed or slow point
//	rdms             RDMRow             one row per representational dissimilarity matrix
//	rsa_pairs        RSAPairRow         one row per compared pair of networks
//	sensitivity      SensitivityRow     one row per network: behavioural sensitivity G_S(W)
//	landscape        LandscapeRow       one row per fixed or slow point, placed in the dynamical landscape
//	landscape_pairs  LandscapePairRow   one row per compared pair of landscapes (topology distance)
//
// Vectors whose length is fixed within a dataset (a state x of N units, Θ of P
// parameters) are Arrow fixed_size_list columns; the length is taken from the
// first row written and every other row must match (a vector that is empty in
// the first row, or a dataset with no rows, falls back to a list column, as
// Arrow has no fixed_size_list of length 0). Matrices of a network are
// variable-length lists (see NetworkRow). Matrices are flattened row-major.
// Columns describes every kind; docs/DATASETS.md documents them.
//
// # Metadata and versions
//
// Every file carries the schema-level key/value metadata
//
//	rulescape.schema          the kind, e.g. "learning_curves"
//	rulescape.schema_version  the kind's version, a decimal integer
//	rulescape.campaign        Meta.Campaign
//	rulescape.params_sha256   Meta.ParamsSHA256
//	rulescape.engine_version  Meta.EngineVersion
//
// A kind's version is bumped on any change of its columns (name, type,
// meaning or unit). Readers accept only the version they were built for and
// otherwise fail with an error naming both versions: a cached dataset of an
// older version is recomputed, never silently misread.
//
// # Formats
//
// Parquet files are written with zstd compression and the Arrow schema stored
// in the file, so fixed_size_list columns come back as such. Arrow IPC files
// (the random-access "file" format) are LZ4-frame compressed. Both writers
// stream to any io.Writer (an S3 upload through io.Pipe, a file) without
// seeking, and a Reader detects the format from the file's magic bytes.
package schemas
