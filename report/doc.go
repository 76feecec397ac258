// Package report builds a campaign's HTML report and its figures from the
// campaign's datasets alone.
//
// The work is split in three steps, so that the pure parts can be tested
// without a store:
//
//   - Load reads campaigns/<id>/manifest.json and every dataset it lists
//     into a Data (store I/O only).
//   - Build turns a Data into the report's files: the figure data
//     (medians and interquartile bands of learning curves, PCA of
//     trajectories and fixed points, mean RDMs, the network × network
//     similarity matrix and its MDS embedding, fixed-point counts by index
//     and the topology distance matrix of the landscape stage,
//     sensitivity spectra) is
//     computed by pure functions, every figure is drawn with gonum/plot to
//     PNG and SVG, and index.html is rendered from an embedded
//     html/template (no JavaScript, no external resources; images are
//     referenced by relative paths).
//   - Write puts the files under campaigns/<id>/report/ with index.html
//     last, as the commit point: a reader never sees an index.html whose
//     figures are missing. WriteDir does the same in a local directory.
//
// The same Data gives byte-identical files. A figure of a stage that did
// not run is omitted and its section says so; sections are listed in one
// place (sections in build.go), so a new stage adds one entry there.
package report
