package main

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}, {0.5, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one sample = %v", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v", got)
	}
	var r recorder
	for _, x := range []time.Duration{3, 1, 2, 200 * time.Millisecond} {
		r.add(x)
	}
	s := r.summary()
	if s.Count != 4 || s.Under100 != 0.75 || s.Maxms != 200 {
		t.Errorf("summary = %+v", s)
	}
}

func TestKeysSortInIndexOrder(t *testing.T) {
	for _, i := range []int{0, 9, 10, 999_999, 9_999_999_999} {
		if k := key(i); !(key(max(i-1, 0)) <= k) {
			t.Errorf("key(%d) = %q sorts before key(%d)", i, k, i-1)
		}
		if j, ok := keyIndex(key(i)); !ok || j != i {
			t.Errorf("keyIndex(key(%d)) = %d, %v", i, j, ok)
		}
	}
	if _, ok := keyIndex("k12"); ok {
		t.Error("keyIndex accepted a key the listing never makes")
	}
}

// TestPagesContinue walks the listing page by page the way the s3
// backend does (continuation token = the last key) and with start-after
// probes in the middle: every key exactly once, in order.
func TestPagesContinue(t *testing.T) {
	l := &listing{n: 2345, size: 1}
	var all []string
	after := ""
	for {
		keys, more := l.page("", after, 1000)
		all = append(all, keys...)
		if !more {
			break
		}
		after = keys[len(keys)-1]
	}
	if len(all) != l.n || !slices.IsSorted(all) || all[0] != key(0) || all[len(all)-1] != key(l.n-1) {
		t.Fatalf("walked %d keys (sorted %v), want %d in order", len(all), slices.IsSorted(all), l.n)
	}
	keys, more := l.page("", key(2000), 1000)
	if len(keys) != 344 || keys[0] != key(2001) || more {
		t.Errorf("start-after key(2000): %d keys from %s, more %v", len(keys), keys[0], more)
	}
	// A start-after between keys (a range split's probe) starts at the next key.
	keys, _ = l.page("", key(41)+"x", 2)
	if !slices.Equal(keys, []string{key(42), key(43)}) {
		t.Errorf("start-after between keys: %v", keys)
	}
	// A prefix bounds the listing on both sides.
	pre := strings.TrimSuffix(key(1200), "00")
	keys, more = l.page(pre, "", 1000)
	if len(keys) != 100 || keys[0] != key(1200) || keys[99] != key(1299) || more {
		t.Errorf("prefix %q: %d keys %s..%s more %v", pre, len(keys), keys[0], keys[len(keys)-1], more)
	}
	if keys, more := l.page("", key(l.n-1), 1000); len(keys) != 0 || more {
		t.Errorf("after the last key: %v %v", keys, more)
	}
}

// TestFakeS3ListsThroughHTTP checks the XML a real ListObjectsV2 client
// reads: truncation, the continuation token and the refusal of anything
// else.
func TestFakeS3ListsThroughHTTP(t *testing.T) {
	f := &fakeS3{src: "src", l: &listing{n: 5, size: 3, etag: "e"}, mtime: "2026-01-01T00:00:00Z"}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", "/src?list-type=2&max-keys=2&continuation-token="+key(1), nil))
	body := rec.Body.String()
	for _, want := range []string{"<Key>" + key(2) + "</Key>", "<Key>" + key(3) + "</Key>", "<IsTruncated>true</IsTruncated>",
		"<NextContinuationToken>" + key(3) + "</NextContinuationToken>", "<Size>3</Size>"} {
		if !strings.Contains(body, want) {
			t.Errorf("list page lacks %s:\n%s", want, body)
		}
	}
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", "/dst?list-type=2", nil))
	if strings.Contains(rec.Body.String(), "<Contents>") {
		t.Errorf("the destination bucket is not empty: %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("HEAD", "/src/"+key(1), nil))
	if rec.Code != 403 {
		t.Errorf("HEAD answered %d, want 403", rec.Code)
	}
	if f.Pages.Load() != 2 {
		t.Errorf("pages = %d, want 2", f.Pages.Load())
	}
}

func TestPeakRate(t *testing.T) {
	t0 := time.Unix(0, 0)
	m := &monitor{}
	for i := range 20 {
		v := int64(i * 100)
		if i >= 10 {
			v = 1000 + int64(i-10)*1000 // faster in the second half
		}
		m.samples = append(m.samples, sample{t: t0.Add(time.Duration(i) * time.Second), verified: v})
	}
	if got := m.peak(5 * time.Second); got != 1000 {
		t.Errorf("peak = %v, want 1000", got)
	}
	if got := m.rate(5*time.Second, m.samples[19].t); got != 1000 {
		t.Errorf("rate = %v, want 1000", got)
	}
}

// TestSimDestETags: the pooled buffer is the simulated destination's own
// business; every Put, concurrent ones included, answers with the MD5 and
// size of exactly its body, so the copier's check still means something.
func TestSimDestETags(t *testing.T) {
	d := newSimDest()
	bodies := []string{"", "a", strings.Repeat("z", 1024), strings.Repeat("0123456789", 10000)}
	var wg sync.WaitGroup
	for i := range 64 {
		body := bodies[i%len(bodies)] + strconv.Itoa(i)
		wg.Go(func() {
			// Without WriteTo, as the copier's readers: the copy goes through the buffer.
			got, err := d.Put(t.Context(), "k", struct{ io.Reader }{strings.NewReader(body)}, storage.ObjectInfo{})
			sum := md5.Sum([]byte(body))
			if err != nil || got.ETag != hex.EncodeToString(sum[:]) || got.Size != int64(len(body)) {
				t.Errorf("Put of %d bytes = %+v, %v; want ETag %x", len(body), got, err, sum)
			}
		})
	}
	wg.Wait()
}
