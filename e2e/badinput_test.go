package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// TestBadInputs: a wrong job file or a missing bucket stops ferry before
// anything changes (exit 2, the problem named), and fixing it is all a
// later run needs; odd source entries are skipped and reported; a file that
// vanishes between scan and copy fails that object alone (exit 1), and
// `ferry failed` / `ferry retry` get it copied after all.
func TestBadInputs(t *testing.T) {
	t.Run("typo in a key", func(t *testing.T) {
		t.Parallel()
		env := newS3Env(t)
		src := localSide(t.TempDir())
		objs := []object{newObject("a.txt", randomBytes(10, 1))}
		writeLocal(t, src.dir, objs)
		dst := env.s3Side(t, "typo-dest")
		dir, data := t.TempDir(), dataDir(t)
		lines := append(append(jobLines("typo"), src.lines("src")...), dst.lines("dest")...)
		var typo []string
		for _, l := range lines {
			typo = append(typo, strings.Replace(l, "destBucket=", "destBuckt=", 1))
		}
		cfg := writeJob(t, dir, "job.cfg", typo...)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", cfg)
		wantExit(t, r, 2)
		if !strings.Contains(r.stderr, "destBuckt") || !strings.Contains(r.stderr, `"destBucket"`) {
			t.Errorf("stderr should name the key destBuckt and suggest \"destBucket\":\n%s", r)
		}
		writeJob(t, dir, "job.cfg", lines...)
		wantExit(t, runFerry(t, "run", "--data-dir", data, "--progress", "none", cfg), 0)
		wantSame(t, dst, objs, false)
	})

	t.Run("missing destination bucket", func(t *testing.T) {
		t.Parallel()
		env := newS3Env(t)
		src := localSide(t.TempDir())
		objs := []object{newObject("a.txt", randomBytes(10, 1)), newObject("b/c.txt", randomBytes(1000, 2))}
		writeLocal(t, src.dir, objs)
		dst := side{kind: "s3", env: env, bucket: "not-created-yet"}
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("nobucket"), src.lines("src")...), dst.lines("dest")...)...)
		data := dataDir(t)
		args := []string{"run", "--data-dir", data, "--progress", "none", cfg}
		r := runFerry(t, args...)
		wantExit(t, r, 2)
		low := strings.ToLower(r.stderr)
		if !strings.Contains(r.stderr, dst.bucket) || !(strings.Contains(low, "does not exist") || strings.Contains(low, "not found")) {
			t.Errorf("stderr should name bucket %q and say it does not exist:\n%s", dst.bucket, r)
		}
		env.srv.CreateBucket(t, dst.bucket)
		r = runFerry(t, args...)
		wantExit(t, r, 0)
		wantSame(t, dst, objs, false)
	})

	t.Run("symlink and fifo skipped", func(t *testing.T) {
		t.Parallel()
		env := newS3Env(t)
		src := localSide(t.TempDir())
		objs := []object{newObject("a.txt", randomBytes(10, 1)), newObject("dir/b.txt", randomBytes(1000, 2))}
		writeLocal(t, src.dir, objs)
		if err := os.Symlink("a.txt", filepath.Join(src.dir, "link-to-a.txt")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("dir", filepath.Join(src.dir, "link-to-dir")); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(src.dir, "dir", "pipe"), 0o644); err != nil {
			t.Fatal(err)
		}
		dst := env.s3Side(t, "special-dest")
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines("special"), src.lines("src")...), dst.lines("dest")...)...)
		data := dataDir(t)
		r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 0)
		rep := parseReport(t, r)
		if c := rep.Counters; c.Verified != 2 || c.Skipped != 3 || c.Failed != 0 {
			t.Errorf("verified %d, skipped %d, failed %d; want 2, 3 (two links, a FIFO), 0", c.Verified, c.Skipped, c.Failed)
		}
		for _, want := range []struct{ key, reason string }{
			{"link-to-a.txt", "symbolic link"}, {"link-to-dir", "symbolic link"}, {"dir/pipe", "not a regular file"},
		} {
			if !logged(r.stderr, want.key, want.reason) {
				t.Errorf("stderr should report %q as skipped (%s):\n%s", want.key, want.reason, r.stderr)
			}
		}
		wantSame(t, dst, objs, false)
	})

	t.Run("file removed between scan and copy", func(t *testing.T) {
		t.Parallel()
		env := newS3Env(t)
		src := localSide(t.TempDir())
		slow := newObject("a-slow.bin", randomBytes(6*MiB, 1))
		gone := newObject("z-vanishing.txt", randomBytes(5000, 2))
		objs := []object{slow, gone}
		writeLocal(t, src.dir, objs)
		dst := env.s3Side(t, "vanish-dest")
		// One worker, 2 MiB/s: a-slow.bin takes 3 s, and z-vanishing.txt,
		// listed with it, waits behind it.
		job := "vanish"
		cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, "maxBytesPerSecond=2m"),
			src.lines("src")...), dst.lines("dest")...)...)
		data := dataDir(t)
		p := startFerry(t, "run", "--data-dir", data, "--workers", "1", "--progress", "none", "--json", cfg)
		waitStatus(t, p, data, job, 30*time.Second, "scan finished and copying begun", func(s status) bool {
			return s.State == "copying" && s.Counters.Scanned == 2 && s.BytesSent > 0
		})
		path := filepath.Join(src.dir, gone.Key)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		r := p.Wait()
		wantExit(t, r, 1)
		rep := parseReport(t, r)
		if c := rep.Counters; c.Verified != 1 || c.Failed != 1 {
			t.Errorf("verified %d, failed %d; want 1, 1", c.Verified, c.Failed)
		}
		if len(rep.Failures) != 1 || rep.Failures[0].Key != gone.Key || !strings.Contains(rep.Failures[0].Reason, "not found") {
			t.Errorf("report failures %+v; want %q, not found", rep.Failures, gone.Key)
		}

		f := runFerry(t, "failed", "--data-dir", data, job)
		wantExit(t, f, 0)
		lines := nonEmptyLines(f.stdout)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], gone.Key+"\t") || !strings.Contains(lines[0], "not found") {
			t.Errorf("ferry failed should list %q with a not-found error, one line:\n%s", gone.Key, f)
		}

		rt := runFerry(t, "retry", "--data-dir", data, job)
		wantExit(t, rt, 0)
		if !strings.Contains(rt.stdout, "1 object(s)") {
			t.Errorf("ferry retry should queue 1 object:\n%s", rt)
		}
		writeLocal(t, src.dir, []object{gone})
		r = runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
		wantExit(t, r, 0)
		rep = parseReport(t, r)
		if c := rep.Counters; c.Failed != 0 || c.Verified != 2 {
			t.Errorf("after retry: verified %d, failed %d; want 2, 0", c.Verified, c.Failed)
		}
		wantSame(t, dst, objs, false)
		f = runFerry(t, "failed", "--data-dir", data, job)
		if f.code != 0 || f.stdout != "" {
			t.Errorf("ferry failed after the retried run:\n%s", f)
		}
	})
}

// logged reports whether a stderr log line names key with reason.
func logged(stderr, key, reason string) bool {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, key) && strings.Contains(l, reason) {
			return true
		}
	}
	return false
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestStockOssImportConfigs runs OssImport's own job files, with only the
// values that name places and credentials changed (and the ferry keys a
// loopback test server needs appended): every other stock line stays.
func TestStockOssImportConfigs(t *testing.T) {
	root := moduleRoot(t)
	// The stock files' example secrets: never to be echoed either.
	addSecret("ExampleSecret0123456789abcdef", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	cases := []struct {
		file string
		src  string // local or s3
	}{
		{"local_job.cfg", "local"},
		{"s3_job.cfg", "s3"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			env := newS3Env(t)
			stock, err := os.ReadFile(filepath.Join(root, "conf", "testdata", "ossimport", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			objs := []object{newObject("docs/readme.txt", randomBytes(500, 1)), newObject("docs/sub/data.bin", randomBytes(9*MiB, 2))}
			set := map[string]string{
				"destBucket":    "stock-dest",
				"destAccessKey": env.srv.AccessKey,
				"destSecretKey": env.srv.SecretKey,
			}
			var extra []string
			var want []object
			if tc.src == "local" {
				// local_job.cfg: the directory is the source; keys are
				// relative to it, under destPrefix=docs/.
				dir := t.TempDir()
				writeLocal(t, dir, objs)
				set["srcPrefix"] = dir + "/"
				set["destDomain"] = env.srv.Endpoint
				extra = []string{"destPathStyle=true", "destCABundle=" + env.srv.Cert.CertFile}
				for _, o := range objs {
					o.Key = "docs/" + o.Key
					want = append(want, o)
				}
			} else {
				// s3_job.cfg: S3 docs/ to OSS docs/.
				env.srv.CreateBucket(t, "stock-src")
				putObjects(t, env.srv.Client(), "stock-src", objs)
				set["srcDomain"] = env.srv.Endpoint
				set["srcBucket"] = "stock-src"
				set["srcAccessKey"] = env.srv.AccessKey
				set["srcSecretKey"] = env.srv.SecretKey
				set["destDomain"] = env.proxy.Endpoint
				extra = []string{"srcPathStyle=true", "srcCABundle=" + env.srv.Cert.CertFile,
					"destType=oss", "destCABundle=" + env.srv.Cert.CertFile}
				want = objs
			}
			env.srv.CreateBucket(t, "stock-dest")
			var out []string
			replaced := map[string]bool{}
			for _, l := range strings.Split(string(stock), "\n") {
				k, _, ok := strings.Cut(l, "=")
				if v, hit := set[strings.TrimSpace(k)]; ok && hit && !strings.HasPrefix(strings.TrimSpace(l), "#") {
					l = k + "=" + v
					replaced[strings.TrimSpace(k)] = true
				}
				out = append(out, l)
			}
			for k := range set {
				if !replaced[k] {
					t.Fatalf("stock %s has no line %s=", tc.file, k)
				}
			}
			cfg := writeJob(t, t.TempDir(), "job.cfg", append(out, extra...)...)
			data := dataDir(t)
			r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
			wantExit(t, r, 0)
			rep := parseReport(t, r)
			if rep.Job != "local_test" || rep.Counters.Verified != int64(len(objs)) {
				t.Errorf("job %q verified %d; want the stock jobName local_test, %d", rep.Job, rep.Counters.Verified, len(objs))
			}
			dst := side{kind: "s3", env: env, bucket: "stock-dest"}
			wantSame(t, dst, want, false)
			if tc.src == "s3" && !regexp.MustCompile(`note: .*scanThreadCount`).MatchString(r.stderr) {
				t.Errorf("the stock scanThreadCount=10000 should earn a note:\n%s", r.stderr)
			}
		})
	}
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
