// Package repotest holds repository-wide checks that belong to no single
// package: the repository reads on its own (no references to documents
// outside it, every "docs/MODEL.md §N" names an existing section), and the
// science engine under core/ stays free of Temporal, S3, Arrow and the rest
// of the module. It has tests only.
package repotest
