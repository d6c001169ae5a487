package e2e

import (
	"fmt"
	"net/http/httptest"
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
	if strings.Contains(r.stderr, "fetched fresh credentials") == false {
		t.Errorf("the command's stderr is not logged:\n%s", r.stderr)
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
	for _, p := range c.workers {
		r := p.Kill()
		outs = append(outs, r.stdout, r.stderr)
	}
	r := c.master.Kill()
	outs = append(outs, r.stdout, r.stderr)
	e.checkRefreshes(t, elapsed, outs...)
}
