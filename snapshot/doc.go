// Package snapshot owns what makes a snapshot backup a snapshot, as pure
// logic the master and worker wire in:
//
//   - naming: the dated destination prefix of each run, from a template in
//     the job's destPrefix ({time:LAYOUT}, {pass}), and the key of the
//     manifest that belongs to a snapshot prefix (template.go);
//   - the manifest: a JSON-lines object listing every object of the
//     snapshot, written last, so that its presence is what makes a
//     snapshot complete (manifest.go, read.go, put.go);
//   - retention: which complete snapshots to keep, with restic's `forget`
//     semantics (retention.go);
//   - restore: a read-only storage.Backend that lists a snapshot from its
//     manifest and reads the stored copies, so that an ordinary copy job
//     restores it, verified against the manifest (source.go).
//
// It imports only storage and the standard library: it knows nothing of
// jobs, passes, trackers or transports, so both `ferry run` and a master
// can use it, and every rule about snapshots has this one home.
package snapshot
