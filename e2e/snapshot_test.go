package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// version is one source object as the test wrote it; gen tells writes
// apart (an object rewritten with the same bytes would still be new).
type version struct {
	data []byte
	gen  int
}

// sourceModel is what the test wrote to a source bucket, mirrored in memory.
type sourceModel struct {
	t      testing.TB
	c      *s3.Client
	bucket string
	objs   map[string]version
	gen    int
}

func newSourceModel(t testing.TB, c *s3.Client, bucket string) *sourceModel {
	return &sourceModel{t: t, c: c, bucket: bucket, objs: map[string]version{}}
}

// put writes the objects (key -> bytes) and delete removes keys, at the
// source and in the model.
func (m *sourceModel) put(objs map[string][]byte) {
	m.t.Helper()
	var list []object
	for k, b := range objs {
		list = append(list, object{Key: k, Size: int64(len(b)), data: b})
		m.gen++
		m.objs[k] = version{data: b, gen: m.gen}
	}
	putObjects(m.t, m.c, m.bucket, list)
}

func (m *sourceModel) delete(keys ...string) {
	m.t.Helper()
	for _, k := range keys {
		if _, err := m.c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(m.bucket), Key: aws.String(k)}); err != nil {
			m.t.Fatal(err)
		}
		delete(m.objs, k)
	}
}

// state is a copy of the model: what a snapshot taken now must hold.
func (m *sourceModel) state() map[string]version { return maps.Clone(m.objs) }

func stateBodies(s map[string]version) map[string]body {
	out := make(map[string]body, len(s))
	for k, v := range s {
		out[k] = bodyOf(v.data)
	}
	return out
}

// changedSince splits now into objects written since prev (new or
// rewritten: their bytes come from the source) and unchanged ones (copied
// from the previous snapshot inside the destination).
func changedSince(prev, now map[string]version) (changedBytes int64, unchanged int64) {
	for k, v := range now {
		if p, ok := prev[k]; ok && p.gen == v.gen {
			unchanged++
		} else {
			changedBytes += int64(len(v.data))
		}
	}
	return changedBytes, unchanged
}

// TestSnapshotScheduleRestoreRetention runs a scheduled snapshot backup
// (S3 to S3, versitygw over TLS) for three runs while the source changes
// between runs, then checks every snapshot, the manifests, the server-side
// copies of unchanged objects, retention (keepLast=2: snapshot 1 goes),
// and restores snapshot 2 to a fresh bucket and to a local directory.
//
// The schedule is a real cron descriptor, `@every 3s`, run by ferry's own
// scheduler on the real clock: no test-only clock. The test follows the
// runs by the destination alone: it polls the backup bucket (plain SDK)
// for each new manifest, which a pass writes last. A pass is never started
// while the previous one runs and `@every` counts from the end of the last
// one, so the source is changed in the seconds between a manifest's
// appearance and the next tick; the next manifest's header (the pass's
// start time) proves it started after the changes, so each snapshot's
// expected content is exactly the source state captured when the previous
// manifest appeared.
func TestSnapshotScheduleRestoreRetention(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.s3Side(t, "snap-src")
	bak := env.s3Side(t, "snap-backup")
	bak.prefix = "backups/{time:2006-01-02T15-04-05}/"
	const parent = "backups/"
	const bigKey = "big/multipart 6MiB.bin"
	bc := bak.direct()
	model := newSourceModel(t, src.direct(), src.bucket)

	// Run 1's source: mixed sizes, odd keys, one object above the
	// multipart threshold (5 MiB parts): its copies, streamed or
	// server-side, are multipart.
	model.put(map[string][]byte{
		"small/a.txt":              randomBytes(100, 1),
		"small/b.txt":              randomBytes(2000, 2),
		"mid/c.bin":                randomBytes(300<<10, 3),
		"odd/with space.txt":       randomBytes(1500, 4),
		"odd/plus+sign.txt":        randomBytes(1700, 5),
		"odd/ünïcødé-日本語.txt":      randomBytes(1900, 6),
		bigKey:                     randomBytes(6*MiB+12345, 7),
		"same-size/x.dat":          randomBytes(4096, 8),
		"del/gone-in-run-2.txt":    randomBytes(500, 9),
		"del/gone-in-run-3.txt":    randomBytes(700, 10),
		"empty/zero-bytes.txt":     {},
		"deep/a/b/c/d/e/f/g/h.txt": randomBytes(10, 11),
	})
	// What changes before runs 2 and 3.
	changes := []func(){
		func() { // before run 2: add, change (other size, same size), delete
			model.put(map[string][]byte{
				"new/in-run-2.txt": randomBytes(333, 21),
				"small/a.txt":      randomBytes(150, 22),
				"same-size/x.dat":  randomBytes(4096, 23),
			})
			model.delete("del/gone-in-run-2.txt")
		},
		func() { // before run 3
			model.put(map[string][]byte{
				"new/in-run-3 ü+.txt": randomBytes(444, 31),
				"odd/plus+sign.txt":   randomBytes(1800, 32),
				"mid/c.bin":           randomBytes(300<<10, 33), // same size
			})
			model.delete("del/gone-in-run-3.txt", "new/in-run-2.txt") // one added in run 2
		},
	}
	const runs = 3

	job := "snap-sched"
	dir := t.TempDir()
	cfg := writeJob(t, dir, "job.cfg", append(append(snapLines(job, "import",
		"backupKind=snapshot", "schedule=@every 3s", "keepLast=2"),
		src.lines("src")...), bak.lines("dest")...)...)
	data := dataDir(t)
	start := time.Now()
	p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)

	known := map[string]bool{}
	var (
		prefixes []string                  // snapshot prefix of each run
		states   []map[string]version      // the source each run must hold
		heads    []manifest                // each run's manifest
		changed  = make([]time.Time, runs) // when the source changes before run i were done
	)
	for i := range runs {
		prefix := waitNewManifest(t, p, bc, bak.bucket, parent, known, 30*time.Second)
		// Change the source for the next run at once: the next tick is
		// seconds away.
		states = append(states, model.state())
		if i+1 < runs {
			changes[i]()
			changed[i+1] = time.Now()
		}
		// The pass's report (printed once retention has run), and after
		// the last run ferry is stopped at once, between passes (SIGTERM,
		// as an operator would): the checks below take their time.
		rep := waitReport(t, p, uint64(i+1), 20*time.Second)
		if i == runs-1 {
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if r := p.Wait(); r.code != 0 {
				t.Fatalf("SIGTERM between scheduled passes: want exit 0 (nothing interrupted):\n%s", r)
			}
		}
		prefixes = append(prefixes, prefix)
		m := readManifest(t, bc, bak.bucket, prefix)
		heads = append(heads, m)
		t.Logf("run %d: pass %d, snapshot %s, base %q, started %s, manifest after %s",
			i+1, m.Header.Pass, prefix, m.Header.Base, m.Header.Started.Format(time.RFC3339Nano), time.Since(start).Round(time.Millisecond))
		if i > 0 && !m.Header.Started.After(changed[i]) {
			t.Fatalf("run %d started at %s, before the source changes for it were done (%s): the test's "+
				"synchronisation with the schedule failed, its expectations would not hold", i+1, m.Header.Started, changed[i])
		}
		// The snapshot, read back now (retention removes it two runs
		// later): exactly the source as it was, byte for byte, and the
		// manifest lists the same objects with their CRC-64/ECMA.
		want := stateBodies(states[i])
		wantBodies(t, "snapshot "+prefix, want, readBodies(t, bc, bak.bucket, prefix))
		// The 6 MiB object is above the multipart threshold: streamed in
		// parts in run 1 (a multipart ETag); later runs copy it inside the
		// destination in one CopyObject (below the store's 5 GiB copy
		// limit), which stores it whole: an MD5 ETag.
		if h, err := bc.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bak.bucket),
			Key: aws.String(prefix + bigKey)}); err != nil {
			t.Errorf("run %d: HEAD %s: %v", i+1, prefix+bigKey, err)
		} else if etag := aws.ToString(h.ETag); strings.Contains(etag, "-") != (i == 0) {
			t.Errorf("run %d: %s has ETag %s; want a multipart one in run 1 only (streamed in parts; copied whole later)", i+1, prefix+bigKey, etag)
		}
		wantManifest(t, m, want)
		wantBase := ""
		if i > 0 {
			wantBase = prefixes[i-1]
		}
		if m.Header.Base != wantBase || m.Header.Job != job {
			t.Errorf("manifest of run %d: job %q base %q; want %q and the previous snapshot %q", i+1, m.Header.Job, m.Header.Base, job, wantBase)
		}

		// ferry's counters of the pass: from the second run on, only
		// new and changed objects are read from the source; the rest are
		// server-side copies from the previous snapshot.
		if m.Header.Pass != uint64(i+1) {
			t.Errorf("run %d: the manifest names pass %d", i+1, m.Header.Pass)
		}
		c := rep.Counters
		wantRead, wantServer := totalBodies(want), int64(0)
		if i > 0 {
			wantRead, wantServer = changedSince(states[i-1], states[i])
		}
		t.Logf("run %d counters: verified %d, bytes_read %d, server_copied %d (%d bytes), methods %v",
			i+1, c.Verified, c.BytesRead, c.ServerCopied, c.ServerCopiedBytes, c.Methods)
		if c.Verified != int64(len(want)) || c.Failed != 0 || c.BytesRead != wantRead || c.ServerCopied != wantServer {
			t.Errorf("run %d: verified %d, failed %d, bytes read %d, server-side copies %d; want %d, 0, %d (new and changed objects only), %d (unchanged)",
				i+1, c.Verified, c.Failed, c.BytesRead, c.ServerCopied, len(want), wantRead, wantServer)
		}
	}

	// ferry stat --json of the stopped job: the last pass's counters.
	st := statJSON(t, data, job)
	if st.Pass != heads[runs-1].Header.Pass {
		t.Errorf("ferry stat: pass %d; want the last run's %d", st.Pass, heads[runs-1].Header.Pass)
	}
	if _, unchanged := changedSince(states[runs-2], states[runs-1]); st.Counters.ServerCopied != unchanged {
		t.Errorf("ferry stat: server_copied %d; want %d", st.Counters.ServerCopied, unchanged)
	}

	// Retention keepLast=2: the newest two complete snapshots remain; the
	// older ones have neither manifest nor objects.
	keptPrefixes := prefixes[runs-2:]
	if got := snapshotPrefixes(t, bc, bak.bucket, parent); !slices.Equal(got, keptPrefixes) {
		t.Errorf("after %d runs with keepLast=2: snapshot prefixes %v; want %v", runs, got, keptPrefixes)
	}
	var wantManifests []string
	for _, p := range keptPrefixes {
		wantManifests = append(wantManifests, manifestKeyOf(p))
	}
	if got := slices.Sorted(maps.Keys(manifests(t, bc, bak.bucket, parent))); !slices.Equal(got, wantManifests) {
		t.Errorf("after %d runs with keepLast=2: manifests %v; want %v", runs, got, wantManifests)
	}
	for _, old := range prefixes[:runs-2] {
		if keys := listKeys(t, bc, bak.bucket, strings.TrimSuffix(old, "/")); len(keys) != 0 {
			t.Errorf("snapshot %s, removed by retention, still has %d objects: %v", old, len(keys), keys[:min(5, len(keys))])
		}
	}

	// Restore snapshot 2, the second-newest (itself made mostly of
	// server-side copies) to a fresh bucket and to a local directory.
	ri := runs - 2
	want := stateBodies(states[ri])
	fromBackup := bak
	fromBackup.prefix = prefixes[ri]
	restored := env.s3Side(t, "snap-restored")
	rcfg := writeJob(t, dir, "restore.cfg", append(append(snapLines("snap-restore", "restore"),
		fromBackup.lines("src")...), restored.lines("dest")...)...)
	rd := dataDir(t)
	rr := runFerry(t, "run", "--data-dir", rd, "--progress", "none", "--json", rcfg)
	wantExit(t, rr, 0)
	wantBodies(t, "bucket restored from "+prefixes[ri], want, readBodies(t, restored.direct(), restored.bucket, ""))

	local := localSide(t.TempDir())
	lcfg := writeJob(t, dir, "restore-local.cfg", append(append(snapLines("snap-restore-local", "restore"),
		fromBackup.lines("src")...), local.lines("dest")...)...)
	wantExit(t, runFerry(t, "run", "--data-dir", rd, "--progress", "none", "--json", lcfg), 0)
	gotLocal := readLocalBodies(t, local.dir)
	wantBodies(t, "directory restored from "+prefixes[ri], want, gotLocal)
	t.Logf("%d scheduled runs, checks and two restores in %s", runs, time.Since(start).Round(time.Millisecond))
}

func totalBodies(m map[string]body) int64 {
	var n int64
	for _, b := range m {
		n += b.Size
	}
	return n
}

// TestSnapshotKilledIsCompletedByTheNextRun kills a snapshot pass with
// SIGKILL half-way, and checks the documented behaviour of an interrupted
// snapshot: it is left recognisably incomplete (objects under its prefix,
// no manifest), it is completed by the resumed pass (the same prefix, the
// manifest written at its end), and it is never used as a base while
// incomplete; once complete, the next run is based on it.
func TestSnapshotKilledIsCompletedByTheNextRun(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.s3Side(t, "killsnap-src")
	bak := env.s3Side(t, "killsnap-backup")
	bak.prefix = "backups/{time:2006-01-02T15-04-05}/"
	const parent = "backups/"
	bc := bak.direct()
	model := newSourceModel(t, src.direct(), src.bucket)
	const n = 300
	objs := map[string][]byte{}
	for i := range n {
		objs[fmt.Sprintf("obj/%04d.dat", i)] = randomBytes(100+i, uint64(1000+i))
	}
	model.put(objs)

	job := "killsnap"
	// 10 objects a shard, 100 objects a second: the pass takes 3 s.
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(snapLines(job, "import",
		"backupKind=snapshot", "taskObjectCountLimit=10", "maxObjectsPerSecond=100"),
		src.lines("src")...), bak.lines("dest")...)...)
	data := dataDir(t)

	start := time.Now()
	p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	s := waitStatus(t, p, data, job, 30*time.Second, "30 objects verified", func(s status) bool { return s.Counters.Verified >= 30 })
	if r := p.Kill(); r.code != 128+9 {
		t.Fatalf("ferry ended by itself before the kill (%d verified):\n%s", s.Counters.Verified, r)
	}
	prefixes := snapshotPrefixes(t, bc, bak.bucket, parent)
	if len(prefixes) != 1 {
		t.Fatalf("after the kill: snapshot prefixes %v; want one", prefixes)
	}
	killed := prefixes[0]
	stored := listKeys(t, bc, bak.bucket, killed)
	if len(stored) == 0 || len(stored) >= n {
		t.Errorf("after the kill: %d objects under %s; want some but not all %d", len(stored), killed, n)
	}
	if ms := manifests(t, bc, bak.bucket, parent); len(ms) != 0 {
		t.Fatalf("after the kill: manifests %v; an interrupted snapshot must have none (incomplete)", ms)
	}
	t.Logf("killed after %s with %d objects verified, %d stored under %s", time.Since(start).Round(time.Millisecond),
		s.Counters.Verified, len(stored), killed)

	// The next run resumes the pass: the same snapshot is completed.
	r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 0)
	if got := snapshotPrefixes(t, bc, bak.bucket, parent); !slices.Equal(got, []string{killed}) {
		t.Fatalf("after the resumed run: snapshot prefixes %v; want only the interrupted one %s, completed", got, killed)
	}
	m := readManifest(t, bc, bak.bucket, killed)
	want := stateBodies(model.state())
	// Objects the killed run had stored but not recorded are found
	// identical by the resumed one without reading the source; their
	// entries still carry a crc64 (read back from the destination).
	wantManifest(t, m, want)
	wantBodies(t, "resumed snapshot "+killed, want, readBodies(t, bc, bak.bucket, killed))
	if m.Header.Base != "" {
		t.Errorf("the first snapshot has base %q; want none", m.Header.Base)
	}

	// One object changed: a new snapshot based on the completed one.
	changedKey := "obj/0150.dat"
	model.put(map[string][]byte{changedKey: randomBytes(999, 7)})
	// A new prefix needs a new second in the template's layout.
	ranAt := time.Now()
	for time.Now().Truncate(time.Second).Equal(ranAt.Truncate(time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	r = runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 0)
	prefixes = snapshotPrefixes(t, bc, bak.bucket, parent)
	if len(prefixes) != 2 || prefixes[0] != killed {
		t.Fatalf("after the third run: snapshot prefixes %v; want %s and a new one", prefixes, killed)
	}
	second := prefixes[1]
	m2 := readManifest(t, bc, bak.bucket, second)
	want2 := stateBodies(model.state())
	wantManifest(t, m2, want2)
	wantBodies(t, "snapshot "+second, want2, readBodies(t, bc, bak.bucket, second))
	if m2.Header.Base != killed {
		t.Errorf("snapshot %s has base %q; want the completed %s", second, m2.Header.Base, killed)
	}
	st := statJSON(t, data, job)
	c := st.Counters
	t.Logf("third run: ferry stat --json: pass %d, verified %d, bytes_read %d, server_copied %d", st.Pass, c.Verified, c.BytesRead, c.ServerCopied)
	if c.ServerCopied != n-1 || c.BytesRead != 999 || c.Verified != n || c.Failed != 0 {
		t.Errorf("third run (1 of %d objects changed): server_copied %d, bytes_read %d, verified %d, failed %d; want %d, 999, %d, 0",
			n, c.ServerCopied, c.BytesRead, c.Verified, c.Failed, n-1, n)
	}
}
