// Package archtest holds no code: its test enforces the import rules of
// the layout (DESIGN §2, docs/architecture.md) on the production code of
// every package in the module, from `go list -json` (non-test Imports and
// Deps), and fails naming the package, the forbidden import and the rule.
//
// To change a rule, change the table in imports_test.go together with the
// docs that state it.
package archtest
