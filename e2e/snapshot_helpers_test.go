package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Helpers of the snapshot backup tests. Everything here reads the
// destination with the plain SDK and the standard library (sha256,
// hash/crc64 with the ECMA table), never with ferry's code: the manifest
// is decoded by its documented JSON shape.

// manifestSuffix is what a snapshot's manifest key adds to the snapshot's
// prefix without its trailing "/" (documented format).
const manifestSuffix = ".ferry-manifest"

var ecmaTable = crc64.MakeTable(crc64.ECMA)

// snapLines is the common part of the snapshot tests' jobs: 6 MiB objects
// go in 5 MiB parts (uploads and server-side copies alike).
func snapLines(name, jobType string, extra ...string) []string {
	return append([]string{
		"jobName=" + name,
		"jobType=" + jobType,
		"multipartUploadThreshold=5m",
		"multipartUploadPartSize=5m",
	}, extra...)
}

// body is what the suite knows of one object's bytes.
type body struct {
	Size   int64
	SHA256 string
	CRC64  uint64
}

func bodyOf(b []byte) body {
	sum := sha256.Sum256(b)
	return body{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), CRC64: crc64.Checksum(b, ecmaTable)}
}

// bodies describes data (key -> bytes).
func bodies(data map[string][]byte) map[string]body {
	out := make(map[string]body, len(data))
	for k, b := range data {
		out[k] = bodyOf(b)
	}
	return out
}

// listKeys lists bucket under prefix (no delimiter): every key.
func listKeys(t testing.TB, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// readBodies lists bucket under prefix and reads every object: keys
// relative to prefix, with size, sha256 and CRC-64/ECMA of the bytes.
func readBodies(t testing.TB, c *s3.Client, bucket, prefix string) map[string]body {
	t.Helper()
	keys := listKeys(t, c, bucket, prefix)
	out := make(map[string]body, len(keys))
	var mu sync.Mutex
	var g group
	for _, k := range keys {
		g.Go(func() error {
			b, err := getObject(c, bucket, k)
			if err != nil {
				return err
			}
			mu.Lock()
			out[strings.TrimPrefix(k, prefix)] = bodyOf(b)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

func getObject(c *s3.Client, bucket, key string) ([]byte, error) {
	get, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%q: %w", bucket, key, err)
	}
	defer get.Body.Close()
	b, err := io.ReadAll(get.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s/%q: %w", bucket, key, err)
	}
	return b, nil
}

// readLocalBodies walks dir: every file by its slash-separated path.
func readLocalBodies(t testing.TB, dir string) map[string]body {
	t.Helper()
	out := map[string]body{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = bodyOf(b)
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// diffBodies says, one line per key, how got differs from want.
func diffBodies(want, got map[string]body) []string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch w := want[k]; {
		case !ok:
			d = append(d, fmt.Sprintf("%q: missing", k))
		case g.Size != w.Size:
			d = append(d, fmt.Sprintf("%q: size %d, want %d", k, g.Size, w.Size))
		case g.SHA256 != w.SHA256:
			d = append(d, fmt.Sprintf("%q: sha256 %.12s…, want %.12s… (same size, other bytes)", k, g.SHA256, w.SHA256))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%q: present but not in the source", k))
		}
	}
	return d
}

func wantBodies(t testing.TB, what string, want, got map[string]body) {
	t.Helper()
	if d := diffBodies(want, got); len(d) > 0 {
		if len(d) > 30 {
			d = append(d[:30], fmt.Sprintf("... and %d more", len(d)-30))
		}
		t.Errorf("%s differs from the source it should hold:\n  %s", what, strings.Join(d, "\n  "))
	}
}

// manifestKeyOf is the manifest key of the snapshot under prefix.
func manifestKeyOf(prefix string) string { return strings.TrimSuffix(prefix, "/") + manifestSuffix }

// manifests lists the manifest keys under parent, mapped to the prefix of
// the snapshot each belongs to.
func manifests(t testing.TB, c *s3.Client, bucket, parent string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range listKeys(t, c, bucket, parent) {
		if base, ok := strings.CutSuffix(k, manifestSuffix); ok {
			out[k] = base + "/"
		}
	}
	return out
}

// snapshotPrefixes are the snapshot prefixes holding objects under
// parent (one level below it, by delimiter), complete or not.
func snapshotPrefixes(t testing.TB, c *s3.Client, bucket, parent string) []string {
	t.Helper()
	var out []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(parent),
		Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s/%s: %v", bucket, parent, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	sort.Strings(out)
	return out
}

// waitNewManifest polls the destination (with the SDK) until a manifest
// not in known appears under parent, adds it to known and returns the
// snapshot prefix it belongs to. It fails the test if p ends first.
func waitNewManifest(t testing.TB, p *proc, c *s3.Client, bucket, parent string, known map[string]bool, deadline time.Duration) string {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		ms := manifests(t, c, bucket, parent)
		var fresh []string
		for k := range ms {
			if !known[k] {
				fresh = append(fresh, k)
			}
		}
		switch len(fresh) {
		case 0:
		case 1:
			known[fresh[0]] = true
			return ms[fresh[0]]
		default:
			t.Fatalf("several new manifests at once (%v): the test lost track of the runs", fresh)
		}
		if p != nil && p.Exited() {
			t.Fatalf("ferry ended while the test waited for a manifest:\n%s", p.res)
		}
		time.Sleep(40 * time.Millisecond)
	}
	t.Fatalf("no new manifest under %s/%s within %s", bucket, parent, deadline)
	return ""
}

// manifest is a decoded manifest object, in its documented JSON shape.
type manifest struct {
	Header struct {
		Format  string    `json:"format"`
		Job     string    `json:"job"`
		Pass    uint64    `json:"pass"`
		Prefix  string    `json:"prefix"`
		Started time.Time `json:"started"`
		Base    string    `json:"base"`
	}
	Entries []manifestEntry
	Trailer struct {
		End      bool   `json:"end"`
		Objects  int64  `json:"objects"`
		Bytes    int64  `json:"bytes"`
		Finished string `json:"finished"`
	}
}

type manifestEntry struct {
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	MTime    string `json:"mtime"`
	CRC64    string `json:"crc64"`
	ETag     string `json:"etag"`
	DestETag string `json:"destEtag"`
}

// readManifest reads and decodes the manifest of the snapshot under
// prefix, failing the test on anything that is not a JSON line of the
// documented shape, or a trailer whose counts disagree with the entries.
func readManifest(t testing.TB, c *s3.Client, bucket, prefix string) manifest {
	t.Helper()
	raw, err := getObject(c, bucket, manifestKeyOf(prefix))
	if err != nil {
		t.Fatalf("manifest of %s: %v", prefix, err)
	}
	var m manifest
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line, ended := 0, false
	for sc.Scan() {
		line++
		l := sc.Bytes()
		if ended {
			t.Fatalf("manifest of %s: line %d after the trailer: %s", prefix, line, l)
		}
		if line == 1 {
			if err := json.Unmarshal(l, &m.Header); err != nil {
				t.Fatalf("manifest of %s: header %s: %v", prefix, l, err)
			}
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(l, &probe); err != nil {
			t.Fatalf("manifest of %s: line %d is not JSON: %s: %v", prefix, line, l, err)
		}
		if _, ok := probe["end"]; ok {
			if err := json.Unmarshal(l, &m.Trailer); err != nil {
				t.Fatalf("manifest of %s: trailer %s: %v", prefix, l, err)
			}
			ended = true
			continue
		}
		var e manifestEntry
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("manifest of %s: entry %s: %v", prefix, l, err)
		}
		m.Entries = append(m.Entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("manifest of %s: %v", prefix, err)
	}
	if !ended || !m.Trailer.End {
		t.Fatalf("manifest of %s has no trailer ({\"end\":true,...}):\n%s", prefix, raw)
	}
	var bytes int64
	for i, e := range m.Entries {
		bytes += e.Size
		if i > 0 && e.Key <= m.Entries[i-1].Key {
			t.Errorf("manifest of %s: key %q after %q: not in increasing order", prefix, e.Key, m.Entries[i-1].Key)
		}
	}
	if m.Trailer.Objects != int64(len(m.Entries)) || m.Trailer.Bytes != bytes {
		t.Errorf("manifest of %s: trailer says %d objects, %d bytes; the entries are %d objects, %d bytes",
			prefix, m.Trailer.Objects, m.Trailer.Bytes, len(m.Entries), bytes)
	}
	if m.Header.Format != "ferry-snapshot/1" || m.Header.Prefix != prefix {
		t.Errorf("manifest of %s: header format %q prefix %q; want ferry-snapshot/1 and %q", prefix, m.Header.Format, m.Header.Prefix, prefix)
	}
	return m
}

// wantManifest checks that m lists exactly want: same keys, sizes, and
// each entry's crc64 (16 hex digits) the CRC-64/ECMA of the bytes.
func wantManifest(t testing.TB, m manifest, want map[string]body) {
	t.Helper()
	got := map[string]manifestEntry{}
	for _, e := range m.Entries {
		got[e.Key] = e
	}
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		e, ok := got[k]
		w := want[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("%q: no entry", k))
		case e.Size != w.Size:
			d = append(d, fmt.Sprintf("%q: size %d, want %d", k, e.Size, w.Size))
		case e.CRC64 != fmt.Sprintf("%016x", w.CRC64):
			d = append(d, fmt.Sprintf("%q: crc64 %q, want %016x", k, e.CRC64, w.CRC64))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%q: an entry for no source object", k))
		}
	}
	if len(d) > 0 {
		if len(d) > 30 {
			d = append(d[:30], fmt.Sprintf("... and %d more", len(d)-30))
		}
		t.Errorf("manifest of %s (pass %d):\n  %s", m.Header.Prefix, m.Header.Pass, strings.Join(d, "\n  "))
	}
}

// passReport is the part of `ferry run --json`'s per-pass report and of
// `ferry stat --json` these tests read. The counters carry Go field names.
type passReport struct {
	Job      string `json:"job"`
	JobName  string `json:"job_name"`
	Pass     uint64 `json:"pass"`
	State    string `json:"state"`
	Counters struct {
		Scanned, Verified, Skipped, Failed int64
		BytesRead, BytesSent               int64
		ServerCopied, ServerCopiedBytes    int64
		Methods                            map[string]int64
	} `json:"counters"`
}

// reports decodes the stream of JSON reports `ferry run --json` printed
// so far (one per pass); an unfinished last one is left out.
func reports(out string) []passReport {
	var rs []passReport
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var r passReport
		if err := dec.Decode(&r); err != nil {
			return rs
		}
		rs = append(rs, r)
	}
}

// waitReport waits for the report of pass n on p's stdout.
func waitReport(t testing.TB, p *proc, n uint64, deadline time.Duration) passReport {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		for _, r := range reports(p.stdout.String()) {
			if r.Pass == n {
				return r
			}
		}
		if p.Exited() {
			t.Fatalf("ferry ended before reporting pass %d:\n%s", n, p.res)
		}
		time.Sleep(40 * time.Millisecond)
	}
	t.Fatalf("no report of pass %d within %s; stdout so far:\n%s", n, deadline, p.stdout.String())
	return passReport{}
}

// statJSON runs `ferry stat --json` for job and returns its entry.
func statJSON(t testing.TB, data, job string) passReport {
	t.Helper()
	r := runFerry(t, "stat", "--json", "--data-dir", data, job)
	wantExit(t, r, 0)
	var ss []passReport
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil || len(ss) != 1 {
		t.Fatalf("ferry stat --json: %v (%d jobs)\n%s", err, len(ss), r)
	}
	return ss[0]
}

// runFerryWithin is runFerry with a deadline of its own, for runs of
// 10,000 objects that a loaded 2-core machine may stretch past
// runTimeout.
func runFerryWithin(t testing.TB, deadline time.Duration, args ...string) result {
	t.Helper()
	p := startFerry(t, args...)
	select {
	case <-p.done:
	case <-time.After(deadline):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("ferry %v did not finish within %s; killed", args, deadline)
	}
	p.finished()
	return p.res
}
