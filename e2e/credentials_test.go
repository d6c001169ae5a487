package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

const (
	// tokenTTL is how long the proxy accepts an issued token.
	tokenTTL = 5 * time.Second
	// minRefreshes per side: the job must outlive this many tokens.
	minRefreshes = 6
)

var credcmd struct {
	once sync.Once
	path string
	err  error
}

// credCommand builds the tests' credentials command once.
func credCommand(t *testing.T) string {
	t.Helper()
	credcmd.once.Do(func() {
		root, err := testserver.ModuleRoot()
		if err != nil {
			credcmd.err = err
			return
		}
		credcmd.path = filepath.Join(filepath.Dir(ferryBin), "credcmd")
		build := exec.Command("go", "build", "-o", credcmd.path, "./internal/testkit/credcmd")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			credcmd.err = fmt.Errorf("go build credcmd: %v\n%s", err, out)
		}
	})
	if credcmd.err != nil {
		t.Fatal(credcmd.err)
	}
	return credcmd.path
}

// stsEnv is the OSS proxy accepting only issued tokens, each valid for
// tokenTTL, with an HTTP endpoint a credentials command fetches them from.
type stsEnv struct {
	*s3env
	iss *ossproxy.Issuer
	url string
}

func newSTSEnv(t *testing.T) *stsEnv {
	env := newS3Env(t)
	iss := env.proxy.RequireIssued(tokenTTL, env.srv.AccessKey)
	srv := httptest.NewServer(iss.Handler())
	t.Cleanup(srv.Close)
	return &stsEnv{s3env: env, iss: iss, url: srv.URL}
}

// lines are an OSS side's job keys with the command provider instead of
// keys; label is what the issuer counts the side's tokens under.
func (e *stsEnv) lines(t *testing.T, s side, p string) []string {
	var out []string
	for _, l := range s.lines(p) {
		if !strings.HasPrefix(l, p+"AccessKey=") && !strings.HasPrefix(l, p+"SecretKey=") {
			out = append(out, l)
		}
	}
	return append(out, p+"Credentials=command:"+credCommand(t)+" "+e.url+"/?label="+p)
}

// credObjects are enough objects for a throttled job of 40+ s, two of
// them multipart, so parts of one upload are signed with different tokens.
func credObjects() []object {
	var objs []object
	for i := range 210 {
		objs = append(objs, newObject(fmt.Sprintf("o/%03d.bin", i), randomBytes(1+(i*7919)%20000, uint64(i))))
	}
	for i := range 2 {
		objs = append(objs, newObject(fmt.Sprintf("big/%d.bin", i), randomBytes(threshold+MiB+i, uint64(1000+i))))
	}
	return objs
}

// credJob is the job: both sides through the proxy with the command
// provider, 5 objects a second (about 42 s).
func (e *stsEnv) credJob(t *testing.T, name string) (cfg string, src, dst side, objs []object) {
	src, dst = e.ossSide(t, name+"-src"), e.ossSide(t, name+"-dst")
	objs = credObjects()
	putObjects(t, src.direct(), src.bucket, objs)
	cfg = writeJob(t, t.TempDir(), name+".cfg", append(append(jobLines(name,
		"maxObjectsPerSecond=5", "taskObjectCountLimit=20"), e.lines(t, src, "src")...), e.lines(t, dst, "dest")...)...)
	return cfg, src, dst, objs
}

// checkRefreshes: both sides renewed their tokens at least minRefreshes
// times (the first token is not a refresh), and none leaked.
func (e *stsEnv) checkRefreshes(t *testing.T, elapsed time.Duration, outputs ...string) {
	t.Helper()
	addSecret(e.iss.Secrets()...)
	checkNoSecrets(t, "ferry with issued tokens", outputs...)
	t.Logf("job took %s; tokens issued: src %d, dest %d; refused requests by code: %v",
		elapsed.Round(time.Second), e.iss.Issued("src"), e.iss.Issued("dest"), e.iss.Refused())
	if elapsed < 40*time.Second {
		t.Errorf("the job took %s: too short to prove refreshes (want >= 40 s)", elapsed.Round(time.Second))
	}
	for _, p := range []string{"src", "dest"} {
		if n := e.iss.Issued(p) - 1; n < minRefreshes {
			t.Errorf("%s: %d refreshes, want >= %d", p, n, minRefreshes)
		}
	}
}

// TestTokenExpiryStandalone: `ferry run` with both sides on 5-second
// tokens from a credentials command outlives them all.
func TestTokenExpiryStandalone(t *testing.T) {
	e := newSTSEnv(t)
	cfg, _, dst, objs := e.credJob(t, "sts")
	start := time.Now()
	r := runFerry(t, "run", "--data-dir", dataDir(t), "--progress", "none", "--json", cfg)
	elapsed := time.Since(start)
	wantExit(t, r, 0)
	rep := parseReport(t, r)
	if rep.Counters.Failed != 0 || rep.Counters.Verified != int64(len(objs)) {
		t.Fatalf("report: %+v, failures %+v; want %d verified, 0 failed", rep.Counters, rep.Failures, len(objs))
	}
	wantSame(t, dst, objs, false)
	e.checkRefreshes(t, elapsed, r.stdout, r.stderr)
}

// TestTokenExpiryCluster: the same in a cluster. Each worker (and the
// master, which lists) runs the command on its own node.
func TestTokenExpiryCluster(t *testing.T) {
	e := newSTSEnv(t)
	cfg, _, dst, objs := e.credJob(t, "stsc")
	c := newCluster(t)
	c.startWorker()
	c.startWorker()
	start := time.Now()
	wantExit(t, c.admin("submit", cfg), 0)
	s := c.waitDone("stsc", 3*time.Minute, nil)
	elapsed := time.Since(start)
	if s.JobState != "succeeded" || s.Counters.Failed != 0 || s.Counters.Verified != int64(len(objs)) {
		t.Fatalf("job ended %q: %+v\n%s", s.JobState, s.Counters, c.admin("failed", "stsc").stdout)
	}
	wantSame(t, dst, objs, false)
	var outs []string
	for name, p := range c.workers {
		r := p.Kill()
		outs = append(outs, r.stdout, r.stderr)
		// A worker logs at info: refreshes and the command's stderr show.
		for _, want := range []string{"credentials refreshed", "fetched fresh credentials"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("worker %s does not log %q:\n%s", name, want, r.stderr)
			}
		}
	}
	r := c.master.Kill()
	outs = append(outs, r.stdout, r.stderr)
	e.checkRefreshes(t, elapsed, outs...)
}

// TestCredentialsRotateOnRunningCluster: a cluster job signing with
// static keys is given new ones with `ferry credentials` (secrets from a
// file); once the workers sign with the new keys the old ones are revoked
// at the proxy, and the job finishes with nothing failed.
func TestCredentialsRotateOnRunningCluster(t *testing.T) {
	e := newSTSEnv(t)
	const oldID, newID = "LTAIoldkey000001", "LTAInewkey000002"
	oldSecret, newSecret := "old-secret-"+randomHexE2E(), "new-secret-"+randomHexE2E()
	addSecret(oldSecret, newSecret)
	e.iss.AddStatic(oldID, oldSecret)

	src, dst := e.ossSide(t, "rot-src"), e.ossSide(t, "rot-dst")
	var objs []object
	for i := range 150 {
		objs = append(objs, newObject(fmt.Sprintf("r/%03d.bin", i), randomBytes(1+(i*7919)%20000, uint64(i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	withKeys := func(s side, p string) []string {
		var out []string
		for _, l := range s.lines(p) {
			switch {
			case strings.HasPrefix(l, p+"AccessKey="):
				out = append(out, p+"AccessKey="+oldID)
			case strings.HasPrefix(l, p+"SecretKey="):
				out = append(out, p+"SecretKey="+oldSecret)
			default:
				out = append(out, l)
			}
		}
		return out
	}
	cfg := writeJob(t, t.TempDir(), "rot.cfg", append(append(jobLines("rot",
		"maxObjectsPerSecond=5", "taskObjectCountLimit=10"), withKeys(src, "src")...), withKeys(dst, "dest")...)...)

	c := newCluster(t)
	c.startWorker()
	c.startWorker()
	wantExit(t, c.admin("submit", cfg), 0)
	waitFor(t, 60*time.Second, "20 objects verified with the old keys", func() bool {
		s, ok := c.stat("rot")
		return ok && s.Counters.Verified >= 20
	})

	// New keys: accepted by the proxy, then given to the job.
	e.iss.AddStatic(newID, newSecret)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(newSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.admin("credentials", "--src-access-key", newID, "--src-secret-key-file", secretFile,
		"--dest-access-key", newID, "--dest-secret-key-file", secretFile, "rot")
	wantExit(t, r, 0)
	given := time.Now()

	// The old key falls silent (every worker and the master switched),
	// then it is revoked.
	waitFor(t, 30*time.Second, "the old key unused for 3 s while the new one is in use", func() bool {
		_, oldLast := e.iss.Used(oldID)
		n, _ := e.iss.Used(newID)
		return n > 0 && time.Since(oldLast) > 3*time.Second
	})
	e.iss.Revoke(oldID)
	revoked := time.Now()
	s := c.waitDone("rot", 3*time.Minute, nil)
	oldN, _ := e.iss.Used(oldID)
	newN, _ := e.iss.Used(newID)
	t.Logf("keys given after %d verified; old key revoked %s later; requests: old %d, new %d; refused: %v",
		20, revoked.Sub(given).Round(100*time.Millisecond), oldN, newN, e.iss.Refused())
	if s.JobState != "succeeded" || s.Counters.Failed != 0 || s.Counters.Verified != int64(len(objs)) {
		t.Fatalf("job ended %q: %+v\n%s", s.JobState, s.Counters, c.admin("failed", "rot").stdout)
	}
	if s.Counters.Verified-20 <= 0 || newN == 0 {
		t.Errorf("the new keys were not used: %d requests", newN)
	}
	wantSame(t, dst, objs, false)
	outs := []string{r.stdout, r.stderr}
	for _, p := range c.workers {
		r := p.Kill()
		outs = append(outs, r.stdout, r.stderr)
	}
	mr := c.master.Kill()
	outs = append(outs, mr.stdout, mr.stderr)
	checkNoSecrets(t, "cluster with rotated keys", outs...)
	// What stat shows of the job never holds the keys.
	checkNoSecrets(t, "stat", c.admin("stat", "rot").stdout)
}

// waitFor polls cond until it holds, or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s within %s", what, timeout)
}

func randomHexE2E() string { return fmt.Sprintf("%016x", rand.Uint64()) }

// TestCredentialsFileRotateStandalone: `ferry run` with srcCredentials=
// file: (and dest too) picks up keys rewritten in the file while it runs;
// the old keys are then revoked and nothing fails.
func TestCredentialsFileRotateStandalone(t *testing.T) {
	e := newSTSEnv(t)
	const oldID, newID = "LTAIfileold00001", "LTAIfilenew00002"
	oldSecret, newSecret := "old-file-secret-"+randomHexE2E(), "new-file-secret-"+randomHexE2E()
	addSecret(oldSecret, newSecret)
	e.iss.AddStatic(oldID, oldSecret)
	dir := t.TempDir()
	credFile := filepath.Join(dir, "keys.json")
	writeKeys := func(id, secret string) {
		t.Helper()
		// As an operator's tool would: a new file renamed over the old.
		tmp := credFile + ".tmp"
		doc := fmt.Sprintf(`{"AccessKeyId":%q,"AccessKeySecret":%q}`, id, secret)
		if err := os.WriteFile(tmp, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, credFile); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys(oldID, oldSecret)

	src, dst := e.ossSide(t, "frot-src"), e.ossSide(t, "frot-dst")
	var objs []object
	for i := range 200 {
		objs = append(objs, newObject(fmt.Sprintf("f/%03d.bin", i), randomBytes(1+(i*7919)%20000, uint64(i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	fileLines := func(s side, p string) []string {
		var out []string
		for _, l := range s.lines(p) {
			if !strings.HasPrefix(l, p+"AccessKey=") && !strings.HasPrefix(l, p+"SecretKey=") {
				out = append(out, l)
			}
		}
		return append(out, p+"Credentials=file:"+credFile)
	}
	cfg := writeJob(t, dir, "frot.cfg", append(append(jobLines("frot", "maxObjectsPerSecond=5", "taskObjectCountLimit=10"),
		fileLines(src, "src")...), fileLines(dst, "dest")...)...)

	data := dataDir(t)
	p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	waitStatus(t, p, data, "frot", 60*time.Second, "20 objects verified", func(s status) bool { return s.Counters.Verified >= 20 })
	e.iss.AddStatic(newID, newSecret)
	writeKeys(newID, newSecret)
	rotated := time.Now()
	waitFor(t, 30*time.Second, "the old key unused for 3 s while the new one is in use", func() bool {
		_, oldLast := e.iss.Used(oldID)
		n, _ := e.iss.Used(newID)
		return n > 0 && time.Since(oldLast) > 3*time.Second
	})
	e.iss.Revoke(oldID)
	t.Logf("old key revoked %s after the file was rewritten", time.Since(rotated).Round(100*time.Millisecond))
	r := p.Wait()
	wantExit(t, r, 0)
	rep := parseReport(t, r)
	if rep.Counters.Failed != 0 || rep.Counters.Verified != int64(len(objs)) {
		t.Fatalf("report: %+v, failures %+v; want %d verified, 0 failed", rep.Counters, rep.Failures, len(objs))
	}
	wantSame(t, dst, objs, false)
	t.Logf("refused: %v", e.iss.Refused())
}

// TestStaticTokenExpires is the control: the same job with one token
// given as static keys stops when the token expires, which is what the
// providers above prevent.
func TestStaticTokenExpires(t *testing.T) {
	e := newSTSEnv(t)
	src, dst := e.ossSide(t, "static-src"), e.ossSide(t, "static-dst")
	objs := credObjects()
	putObjects(t, src.direct(), src.bucket, objs)
	tok := e.iss.Issue("static")
	addSecret(tok.AccessKeySecret, tok.SecurityToken)
	withToken := func(s side, p string) []string {
		var out []string
		for _, l := range s.lines(p) {
			switch {
			case strings.HasPrefix(l, p+"AccessKey="):
				out = append(out, p+"AccessKey="+tok.AccessKeyID)
			case strings.HasPrefix(l, p+"SecretKey="):
				out = append(out, p+"SecretKey="+tok.AccessKeySecret, p+"SecurityToken="+tok.SecurityToken)
			default:
				out = append(out, l)
			}
		}
		return out
	}
	cfg := writeJob(t, t.TempDir(), "static.cfg", append(append(jobLines("static",
		"maxObjectsPerSecond=5", "taskObjectCountLimit=20"), withToken(src, "src")...), withToken(dst, "dest")...)...)
	r := runFerry(t, "run", "--data-dir", dataDir(t), "--progress", "none", "--json", cfg)
	if r.code == 0 {
		t.Fatalf("a job on one 5-second token finished:\n%s", r)
	}
	if e.iss.Refused()["SecurityTokenExpired"] == 0 {
		t.Errorf("the proxy refused no expired token: %v", e.iss.Refused())
	}
	if !strings.Contains(r.stdout+r.stderr, "SecurityTokenExpired") {
		t.Errorf("the failure does not name the expired token:\n%s", r)
	}
}
