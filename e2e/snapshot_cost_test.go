package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
)

// TestSnapshotOfUnchangedSourceReadsNothing measures what a snapshot of an
// unchanged source costs at the source: 10,000 tiny objects in a bucket
// behind the OSS look-alike proxy (which counts every request it serves),
// backed up to a bucket on versitygw directly (so every request the proxy
// sees is a source request). The first snapshot reads every object; the
// second, of the unchanged source, must read none: no GET of an object,
// no object byte, and ferry's own counters say 0 bytes read and 10,000
// server-side copies inside the destination.
func TestSnapshotOfUnchangedSourceReadsNothing(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.ossSide(t, "cost-src")
	bak := env.s3Side(t, "cost-backup")
	bak.prefix = "backups/{time:2006-01-02T15-04-05}/"
	const parent = "backups/"
	bc := bak.direct()
	const n = 10000
	objs := make([]object, n)
	for i := range objs {
		objs[i] = object{Key: fmt.Sprintf("d%02d/obj-%05d.txt", i%50, i), data: randomBytes(16+i%48, uint64(i))}
		objs[i].Size = int64(len(objs[i].data))
	}
	loadStart := time.Now()
	putObjects(t, src.direct(), src.bucket, objs) // straight to versitygw: the proxy sees none of it
	load := time.Since(loadStart)
	data := map[string][]byte{}
	for _, o := range objs {
		data[o.Key] = o.data
	}
	want := bodies(data)

	job := "cost"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(snapLines(job, "import",
		"backupKind=snapshot", "taskObjectCountLimit=1000"),
		src.lines("src")...), bak.lines("dest")...)...)
	dd := dataDir(t)

	type figures struct {
		elapsed          time.Duration
		gets, heads      int
		bytes            int64
		all              map[ossproxy.Kind]int
		read, serverCopy int64
	}
	run := func(i int) figures {
		t.Helper()
		before := env.proxy.Counts()
		r := runFerryWithin(t, 5*time.Minute, "run", "--data-dir", dd, "--progress", "none", "--json", cfg)
		wantExit(t, r, 0)
		d := env.proxy.Counts().Since(before)
		st := statJSON(t, dd, job)
		if st.Counters.Verified != n || st.Counters.Failed != 0 {
			t.Errorf("snapshot %d: verified %d, failed %d; want %d, 0", i, st.Counters.Verified, st.Counters.Failed, n)
		}
		return figures{elapsed: r.elapsed, gets: d.ByKind[ossproxy.KindGet], heads: d.ByKind[ossproxy.KindHead],
			bytes: d.ObjectBytes, all: d.ByKind, read: st.Counters.BytesRead, serverCopy: st.Counters.ServerCopied}
	}
	f1 := run(1)
	prefixes := snapshotPrefixes(t, bc, bak.bucket, parent)
	if len(prefixes) != 1 {
		t.Fatalf("after snapshot 1: prefixes %v; want one", prefixes)
	}
	// A second snapshot needs a new second for its prefix.
	for time.Now().Truncate(time.Second).Format("15-04-05") == strings.TrimSuffix(prefixes[0], "/")[len(prefixes[0])-9:] {
		time.Sleep(20 * time.Millisecond)
	}
	f2 := run(2)
	prefixes = snapshotPrefixes(t, bc, bak.bucket, parent)
	if len(prefixes) != 2 {
		t.Fatalf("after snapshot 2: prefixes %v; want two", prefixes)
	}

	total := totalBodies(want)
	if f1.gets != n || f1.bytes != total || f1.read != total {
		t.Errorf("snapshot 1: %d source GETs, %d object bytes served, bytes_read %d; want %d, %d, %d (everything read once)",
			f1.gets, f1.bytes, f1.read, n, total, total)
	}
	if f2.gets != 0 || f2.bytes != 0 || f2.read != 0 || f2.serverCopy != n {
		t.Errorf("snapshot 2 of the unchanged source: %d source GETs, %d object bytes served, bytes_read %d, server_copied %d; want 0, 0, 0, %d",
			f2.gets, f2.bytes, f2.read, f2.serverCopy, n)
	}
	// The second snapshot is complete and right: the manifest, and every
	// object by its listed size and MD5 ETag (reading 10,000 bodies back
	// would cost more than the test measures).
	m := readManifest(t, bc, bak.bucket, prefixes[1])
	wantManifest(t, m, want)
	if m.Header.Base != prefixes[0] {
		t.Errorf("snapshot 2's base is %q; want %q", m.Header.Base, prefixes[0])
	}
	// Every object by its listed size, and every 20th read back and
	// compared byte for byte. (Server-side copies into an S3 store are
	// conditional multipart copies, whose ETags are not MD5s; reading all
	// 10,000 back would cost more than the test measures, and the other
	// snapshot tests read every object.)
	listed := map[string]body{}
	p := s3.NewListObjectsV2Paginator(bc, &s3.ListObjectsV2Input{Bucket: aws.String(bak.bucket), Prefix: aws.String(prefixes[1])})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(o.Key), prefixes[1])
			listed[k] = body{Size: aws.ToInt64(o.Size), SHA256: want[k].SHA256}
		}
	}
	wantBodies(t, "snapshot 2 (listed sizes)", want, listed)
	sample := map[string]body{}
	var sampleKeys []string
	for i := 0; i < n; i += 20 {
		sampleKeys = append(sampleKeys, objs[i].Key)
		sample[objs[i].Key] = want[objs[i].Key]
	}
	var mu sync.Mutex
	read := map[string]body{}
	var g group
	for _, k := range sampleKeys {
		g.Go(func() error {
			b, err := getObject(bc, bak.bucket, prefixes[1]+k)
			mu.Lock()
			read[k] = bodyOf(b)
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, "snapshot 2 (every 20th object read back)", sample, read)

	t.Logf("cost of a snapshot of %d objects (%d bytes), source behind the OSS proxy (loaded in %s):", n, total, load.Round(time.Millisecond))
	t.Logf("| snapshot | ferry run | source GETs | source object bytes | source HEADs | bytes_read | server_copied | source requests by kind |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, f := range []figures{f1, f2} {
		t.Logf("| %d | %.1f s | %d | %d | %d | %d | %d | %v |", i+1, f.elapsed.Seconds(), f.gets, f.bytes, f.heads, f.read, f.serverCopy, f.all)
	}
}
