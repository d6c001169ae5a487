package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterCutover runs the guided cutover on a cluster: a real `ferry
// master` and `ferry worker`, every cutover command with --master from the
// operator's machine. The source changes between T1 and T2, the
// application writes at the destination after T2; the master runs both
// passes and its report matches what a plain client sees in the buckets.
func TestClusterCutover(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "ccut-src"), env.s3Side(t, "ccut-dst")
	sc, dc := src.direct(), dst.direct()
	putObjects(t, sc, src.bucket, []object{
		newObject("keep/u", randomBytes(1000, 1)),
		newObject("changed/a", randomBytes(2000, 2)),
		newObject("changed/app", randomBytes(3000, 3)),
	})
	job := "ccut"
	cfg := writeJob(t, t.TempDir(), "ccut.cfg", append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)

	c := newCluster(t)
	c.startWorker()
	cutover := func(sub string, args ...string) result {
		t.Helper()
		return runFerry(t, append([]string{"cutover", sub, "--master", c.addr, "--tls-ca", c.cert.CertFile,
			"--token-file", c.tokenFile}, args...)...)
	}
	var st cutoverRun
	waitPhase := func(want string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			r := cutover("status", "--json", job)
			wantExit(t, r, 0)
			st = cutoverRun{} // running is left out when false
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatalf("cutover status --json: %v\n%s", err, r)
			}
			if st.Phase == want && !st.Running {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("cutover of %s never reached phase %q (last %+v)", job, want, st)
	}

	wantExit(t, cutover("start", cfg), 0)
	waitPhase("copied")
	if st.T1.IsZero() {
		t.Fatal("T1 not recorded")
	}
	r := cutover("status", job)
	wantExit(t, r, 0)
	if want := "ferry cutover switch --master " + c.addr + " " + job + " --at T2"; !strings.Contains(r.stdout, want) {
		t.Errorf("status after the full copy should give the switch steps (%q):\n%s", want, r)
	}

	// Between T1 and T2 the source changes; after T2 the application
	// writes at the destination.
	changedA, newN := newObject("changed/a", randomBytes(2100, 21)), newObject("new/n", randomBytes(500, 5))
	putObjects(t, sc, src.bucket, []object{changedA, newN, newObject("changed/app", randomBytes(3100, 31))})
	t2 := nextSecond(head(t, sc, src.bucket, "changed/app").mtime)
	app := newObject("changed/app", randomBytes(3200, 32))
	putObjects(t, dc, dst.bucket, []object{app})

	wantExit(t, cutover("switch", job, "--at", strconv.FormatInt(t2.Unix(), 10)), 0)
	waitPhase("switched")

	r = cutover("finish", "--json", job)
	wantExit(t, r, 0)
	var rep struct {
		Copied, Identical, Kept, Failed, Unaccounted int64
		CopiedInPass                                 int64 `json:"copied_in_pass"`
		OK                                           bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("cutover finish --json: %v\n%s", err, r)
	}
	if rep.Copied != 3 || rep.CopiedInPass != 2 || rep.Kept != 1 || rep.Identical != 0 || rep.Failed != 0 || rep.Unaccounted != 0 || !rep.OK {
		t.Errorf("report: copied %d (in pass %d), kept %d, identical %d, failed %d, unaccounted %d, ok %v; want 3 (2), 1, 0, 0, 0, true\n%s",
			rep.Copied, rep.CopiedInPass, rep.Kept, rep.Identical, rep.Failed, rep.Unaccounted, rep.OK, r)
	}
	final := snapshot(t, dc, dst.bucket)
	for _, w := range []object{changedA, newN, app} {
		if final[w.Key].sum != sha256.Sum256(w.data) {
			t.Errorf("%s at the destination is not the expected version (changed/app must be the application's)", w.Key)
		}
	}
	for _, p := range c.workers {
		p.Kill()
	}
	c.master.Kill()
}

// cutoverRun is `ferry cutover status --json` through a master.
type cutoverRun struct {
	Phase   string
	T1, T2  time.Time
	Running bool
}
