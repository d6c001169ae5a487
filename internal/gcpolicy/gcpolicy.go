// Package gcpolicy is ferry's garbage-collector setting, shared by the
// binary and by the benchmark programs that stand in for it (scanbench
// runs the master's scan, rawpipe is the physical limit ferry is held to),
// so that what they measure is what ferry does.
package gcpolicy

import "runtime/debug"

// Percent is the GOGC ferry runs with when the environment sets none. A
// copier's live heap is small and its garbage plentiful (the SDK allocates
// per request): at 200 the collector runs half as often as at Go's 100,
// which was 8% of a worker's CPU on small objects, for a few MiB more heap.
const Percent = 200

// Apply sets Percent unless GOGC is set; getenv is os.Getenv.
func Apply(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
}
