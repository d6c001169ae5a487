package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage/crc"
)

const (
	MiB = 1 << 20

	// Upload settings of every job in the suite: objects from 8 MiB go in
	// 5 MiB parts (S3's minimum part size, which versitygw enforces).
	threshold = 8 * MiB
	partSize  = 5 * MiB

	// runTimeout bounds one ferry invocation.
	runTimeout = 2 * time.Minute
)

// ---------------------------------------------------------------------------
// Secrets: every secret the suite hands ferry is registered here, and every
// stdout/stderr of every ferry invocation is searched for all of them.

var secrets struct {
	mu sync.Mutex
	m  map[string]bool
}

func addSecret(s ...string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	if secrets.m == nil {
		secrets.m = map[string]bool{}
	}
	for _, v := range s {
		if v != "" {
			secrets.m[v] = true
		}
	}
}

func checkNoSecrets(t testing.TB, what string, outputs ...string) {
	t.Helper()
	secrets.mu.Lock()
	list := slices.Collect(maps.Keys(secrets.m))
	secrets.mu.Unlock()
	for _, out := range outputs {
		for _, s := range list {
			if strings.Contains(out, s) {
				t.Errorf("SECRET LEAKED: output of `%s` contains a secret key (%d chars, starting %.4q)", what, len(s), s)
			}
		}
	}
}

// dataDir is a fresh --data-dir. When the test ends every file ferry left
// in it (tracker database, status files) is searched for the secrets too:
// the tracker keeps only a redacted config.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err == nil {
				checkNoSecrets(t, "file "+path, string(b))
			}
			return nil
		})
	})
	return dir
}

// ---------------------------------------------------------------------------
// Running the binary.

// result is one finished ferry invocation.
type result struct {
	args           []string
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("`ferry %s` exit %d after %s\n--- stdout:\n%s--- stderr:\n%s",
		strings.Join(r.args, " "), r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// ferryEnv is the environment of the binary: this one minus credentials
// that could stand in for the ones the job files give.
func ferryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "OSS_"), name == "AWS_ACCESS_KEY_ID", name == "AWS_SECRET_ACCESS_KEY",
			name == "AWS_SESSION_TOKEN", name == "AWS_PROFILE", name == "FERRY_DATA_DIR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// proc is a running ferry.
type proc struct {
	t              testing.TB
	args           []string
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	start          time.Time
	done           chan struct{}
	res            result
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startFerry starts `ferry args...` in the background. Wait or Kill it; the
// test's cleanup kills it if neither was done.
func startFerry(t testing.TB, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, args: args, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(ferryBin, args...)
	p.cmd.Env = ferryEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ferry %v: %v", args, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.res = result{args: args, code: exitCode(err), stdout: p.stdout.String(), stderr: p.stderr.String(),
			elapsed: time.Since(p.start)}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// Wait waits for the process (at most runTimeout, then kills it and fails).
func (p *proc) Wait() result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(runTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("ferry %v did not finish within %s; killed", p.args, runTimeout)
	}
	p.finished()
	return p.res
}

// finished checks the output of an ended process, and logs it with
// FERRY_E2E_LOG=1.
func (p *proc) finished() {
	p.t.Helper()
	checkNoSecrets(p.t, "ferry "+strings.Join(p.args, " "), p.res.stdout, p.res.stderr)
	if os.Getenv("FERRY_E2E_LOG") != "" {
		p.t.Logf("%s", p.res)
	}
}

// Kill sends SIGKILL, as a machine dying would, and waits.
func (p *proc) Kill() result {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.finished()
	return p.res
}

// Exited reports whether the process has ended.
func (p *proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// runFerry runs `ferry args...` to its end.
func runFerry(t testing.TB, args ...string) result {
	t.Helper()
	return startFerry(t, args...).Wait()
}

// wantExit fails the test unless r exited with code.
func wantExit(t testing.TB, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %d:\n%s", code, r.code, r)
	}
}

// ---------------------------------------------------------------------------
// Reports and status, decoded with the suite's own types (the documented
// field names), not ferry's.

type counters struct {
	Scanned, ScannedBytes   int64
	Verified, VerifiedBytes int64
	Skipped, SkippedBytes   int64
	Failed, FailedBytes     int64
	BytesRead, BytesSent    int64
	Shards, ShardsDone      int64
	ShardsFailed            int64
	Methods                 map[string]int64
	// The overwrite policy's outcomes (identical within Verified).
	Identical, Kept int64
}

type failure struct {
	Key, Dest, Reason, Class string
	Attempts                 int
}

type report struct {
	Job       string   `json:"job"`
	Pass      uint64   `json:"pass"`
	State     string   `json:"state"`
	Counters  counters `json:"counters"`
	Listed    int64    `json:"listed"`
	BytesSent int64    `json:"bytes_sent_live"`
	JobState  string   `json:"job_state"`
	Failures  []failure
	Extra     int64 `json:"extra"`
}

// status is the file a running `ferry run` publishes every second.
type status struct {
	Job       string   `json:"job"`
	Pass      uint64   `json:"pass"`
	State     string   `json:"state"`
	Counters  counters `json:"counters"`
	Listed    int64    `json:"listed"`
	BytesSent int64    `json:"bytes_sent_live"`
	PID       int      `json:"pid"`
	Live      struct {
		Pending, Leased int
		ScanFinished    bool
	} `json:"live"`
}

func parseReport(t testing.TB, r result) report {
	t.Helper()
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json report does not parse: %v\n%s", err, r)
	}
	return rep
}

// readStatus reads <dataDir>/status/<job>.json; ok is false while there is
// none (or it is being replaced).
func readStatus(dataDir, job string) (status, bool) {
	var s status
	b, err := os.ReadFile(filepath.Join(dataDir, "status", job+".json"))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return s, false
	}
	return s, true
}

// waitStatus polls the status file until cond holds; it fails the test if
// the process ends first or deadline passes.
func waitStatus(t testing.TB, p *proc, dataDir, job string, deadline time.Duration, what string, cond func(status) bool) status {
	t.Helper()
	end := time.Now().Add(deadline)
	var last status
	for time.Now().Before(end) {
		if p.Exited() {
			t.Fatalf("ferry ended before %s (last status %+v):\n%s", what, last, p.res)
		}
		if s, ok := readStatus(dataDir, job); ok {
			last = s
			if cond(s) {
				return s
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	p.Kill()
	t.Fatalf("no status with %s within %s (last %+v)", what, deadline, last)
	return last
}

// methods renders a Methods map without zero entries, for comparisons.
func methods(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Job files.

// writeJob writes a job file of lines into dir and returns its path.
func writeJob(t testing.TB, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// jobLines is the common part of a job: name, shard and upload settings.
func jobLines(name string, extra ...string) []string {
	return append([]string{
		"jobName=" + name,
		"jobType=import",
		fmt.Sprintf("multipartUploadThreshold=%d", threshold),
		fmt.Sprintf("multipartUploadPartSize=%d", partSize),
	}, extra...)
}

// ---------------------------------------------------------------------------
// Servers and sides.

// s3env is a versitygw (virtual-hosted under "localhost" as well as path
// style) with the OSS look-alike proxy in front of it.
type s3env struct {
	srv   *testserver.S3Server
	proxy *ossproxy.Proxy
}

func newS3Env(t testing.TB) *s3env {
	t.Helper()
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	addSecret(srv.SecretKey, srv.UserSecretKey)
	return &s3env{srv: srv, proxy: ossproxy.Start(t, srv)}
}

// side is one end of a job.
type side struct {
	kind   string // "local", "s3" (versitygw, path style), "oss" (through the proxy)
	dir    string // local
	env    *s3env
	bucket string
	prefix string
}

func localSide(dir string) side { return side{kind: "local", dir: dir} }

func (e *s3env) s3Side(t testing.TB, bucket string) side {
	e.srv.CreateBucket(t, bucket)
	return side{kind: "s3", env: e, bucket: bucket}
}

func (e *s3env) ossSide(t testing.TB, bucket string) side {
	e.srv.CreateBucket(t, bucket)
	return side{kind: "oss", env: e, bucket: bucket}
}

// lines are the job keys for this side; p is "src" or "dest".
func (s side) lines(p string) []string {
	switch s.kind {
	case "local":
		return []string{p + "Type=local", p + "Prefix=" + s.dir}
	case "s3":
		return []string{p + "Type=s3", p + "Domain=" + s.env.srv.Endpoint, p + "Bucket=" + s.bucket,
			p + "Prefix=" + s.prefix, p + "AccessKey=" + s.env.srv.AccessKey, p + "SecretKey=" + s.env.srv.SecretKey,
			p + "PathStyle=true", p + "CABundle=" + s.env.srv.Cert.CertFile}
	case "oss":
		return []string{p + "Type=oss", p + "Domain=" + s.env.proxy.Endpoint, p + "Bucket=" + s.bucket,
			p + "Prefix=" + s.prefix, p + "AccessKey=" + s.env.srv.AccessKey, p + "SecretKey=" + s.env.srv.SecretKey,
			p + "CABundle=" + s.env.srv.Cert.CertFile}
	}
	panic("side kind " + s.kind)
}

// direct is a plain SDK client to versitygw itself (path style), bypassing
// the proxy: what the suite checks destinations with.
func (s side) direct() *s3.Client { return s.env.srv.Client() }

// viaProxy is a plain SDK client through the OSS proxy (virtual-hosted,
// checksums only when required), for creating source objects whose CRC64
// the proxy then reports as OSS would.
func (e *s3env) viaProxy() *s3.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = e.srv.Cert.Pool
		tr.DialContext = testserver.LocalhostDialer
	})
	return s3.New(s3.Options{
		Region:                     e.srv.Region,
		BaseEndpoint:               aws.String(e.proxy.Endpoint),
		Credentials:                credentials.NewStaticCredentialsProvider(e.srv.AccessKey, e.srv.SecretKey, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// ---------------------------------------------------------------------------
// Objects.

// object is what the suite knows of one object, written or found.
type object struct {
	Key         string
	Size        int64
	CRC64       uint64
	ContentType string            // "" when not compared
	Meta        map[string]string // nil when not compared
	// MD5 (hex) instead of CRC64, for destinations checked by listing only:
	// a single-part ETag is the MD5 the server computed of what it stored.
	MD5  string
	data []byte // source objects only
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func newObject(key string, data []byte) object {
	return object{Key: key, Size: int64(len(data)), CRC64: crc.Checksum(data), data: data}
}

// writeLocal creates the objects as files under dir.
func writeLocal(t testing.TB, dir string, objs []object) {
	t.Helper()
	for _, o := range objs {
		path := filepath.Join(dir, filepath.FromSlash(o.Key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, o.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// putObjects stores the objects with c (32 at a time), with their content
// type and metadata when set.
func putObjects(t testing.TB, c *s3.Client, bucket string, objs []object) {
	t.Helper()
	var g group
	for _, o := range objs {
		g.Go(func() error {
			in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key),
				Body: bytes.NewReader(o.data), ContentLength: aws.Int64(o.Size), Metadata: o.Meta}
			if o.ContentType != "" {
				in.ContentType = aws.String(o.ContentType)
			}
			if _, err := c.PutObject(context.Background(), in); err != nil {
				return fmt.Errorf("put %q: %w", o.Key, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// listS3 lists bucket (under prefix) with c and reads every object back:
// keys relative to prefix, sizes, CRC64 of the bytes, content type and
// user metadata when withMeta.
func listS3(t testing.TB, c *s3.Client, bucket, prefix string, withMeta bool) map[string]object {
	t.Helper()
	ctx := context.Background()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	out := make(map[string]object, len(keys))
	var mu sync.Mutex
	var g group
	for _, k := range keys {
		g.Go(func() error {
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil {
				return fmt.Errorf("get %q: %w", k, err)
			}
			defer get.Body.Close()
			b, err := io.ReadAll(get.Body)
			if err != nil {
				return fmt.Errorf("read %q: %w", k, err)
			}
			o := object{Key: strings.TrimPrefix(k, prefix), Size: int64(len(b)), CRC64: crc.Checksum(b)}
			if withMeta {
				o.ContentType = aws.ToString(get.ContentType)
				o.Meta = get.Metadata
				if o.Meta == nil {
					o.Meta = map[string]string{}
				}
			}
			mu.Lock()
			out[o.Key] = o
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listETags lists bucket with c without reading the objects: sizes and
// single-part ETags (MD5s), for large sources of small objects.
func listETags(t testing.TB, c *s3.Client, bucket string) map[string]object {
	t.Helper()
	out := map[string]object{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			out[k] = object{Key: k, Size: aws.ToInt64(o.Size), MD5: strings.ToLower(strings.Trim(aws.ToString(o.ETag), `"`))}
		}
	}
	return out
}

// listLocal walks dir: every file (hidden ones included: leftovers count)
// by its slash-separated relative path.
func listLocal(t testing.TB, dir string) map[string]object {
	t.Helper()
	out := map[string]object{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		k := filepath.ToSlash(rel)
		out[k] = object{Key: k, Size: int64(len(b)), CRC64: crc.Checksum(b)}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// contents lists a side independently of ferry.
func (s side) contents(t testing.TB, withMeta bool) map[string]object {
	t.Helper()
	if s.kind == "local" {
		return listLocal(t, s.dir)
	}
	return listS3(t, s.direct(), s.bucket, s.prefix, withMeta)
}

// diffObjects compares what a destination holds with what it should; each
// line of the answer says what differs. Metadata is compared when both
// sides carry it (non-nil Meta).
func diffObjects(want []object, got map[string]object) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Key] = true
		g, ok := got[w.Key]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%q: missing at the destination", w.Key))
			continue
		}
		if g.Size != w.Size {
			diffs = append(diffs, fmt.Sprintf("%q: size %d, want %d", w.Key, g.Size, w.Size))
		}
		if g.MD5 != "" {
			if sum := md5.Sum(w.data); g.MD5 != hex.EncodeToString(sum[:]) {
				diffs = append(diffs, fmt.Sprintf("%q: ETag %s, want the MD5 %x", w.Key, g.MD5, sum))
			}
		} else if g.CRC64 != w.CRC64 {
			diffs = append(diffs, fmt.Sprintf("%q: CRC64 %d, want %d", w.Key, g.CRC64, w.CRC64))
		}
		if w.ContentType != "" && g.Meta != nil && g.ContentType != w.ContentType {
			diffs = append(diffs, fmt.Sprintf("%q: content type %q, want %q", w.Key, g.ContentType, w.ContentType))
		}
		if w.Meta != nil && g.Meta != nil && !maps.Equal(lowerKeys(w.Meta), lowerKeys(g.Meta)) {
			diffs = append(diffs, fmt.Sprintf("%q: user metadata %v, want %v", w.Key, g.Meta, w.Meta))
		}
	}
	var extra []string
	for k := range got {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		diffs = append(diffs, fmt.Sprintf("%q: at the destination but not in the source", k))
	}
	return diffs
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// wantSame fails the test with every difference between dst and want.
func wantSame(t testing.TB, dst side, want []object, withMeta bool) {
	t.Helper()
	wantContents(t, want, dst.contents(t, withMeta))
}

func wantContents(t testing.TB, want []object, got map[string]object) {
	t.Helper()
	if d := diffObjects(want, got); len(d) > 0 {
		if len(d) > 30 {
			d = append(d[:30], fmt.Sprintf("... and %d more", len(d)-30))
		}
		t.Errorf("destination differs from the source:\n  %s", strings.Join(d, "\n  "))
	}
}

// totalSize sums the objects' sizes.
func totalSize(objs []object) int64 {
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n
}

// requestsTo are the requests the proxy saw for bucket.
func requestsTo(p *ossproxy.Proxy, bucket string) []ossproxy.Seen {
	var out []ossproxy.Seen
	for _, s := range p.Requests() {
		if s.Bucket == bucket {
			out = append(out, s)
		}
	}
	return out
}

// isUpload says whether a request stores object bytes (PutObject or
// UploadPart) of the job and got a success answer. The scratch objects of
// the master's probe of conditional writes (a few one-byte writes each
// pass start, removed again) are not the job's.
func isUpload(s ossproxy.Seen) bool {
	return s.Method == http.MethodPut && s.Key != "" && s.Header.Get("X-Amz-Copy-Source") == "" &&
		s.Status/100 == 2 && !strings.Contains(s.Query, "tagging") && !strings.Contains(s.Query, "acl") &&
		!strings.Contains(s.Key, ".ferry-probe-")
}

// group runs functions 32 at a time and keeps the first error.
type group struct {
	wg   sync.WaitGroup
	sem  chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
}

func (g *group) Go(f func() error) {
	g.once.Do(func() { g.sem = make(chan struct{}, 32) })
	g.sem <- struct{}{}
	g.wg.Go(func() {
		defer func() { <-g.sem }()
		if err := f(); err != nil {
			g.mu.Lock()
			if g.err == nil {
				g.err = err
			}
			g.mu.Unlock()
		}
	})
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}
