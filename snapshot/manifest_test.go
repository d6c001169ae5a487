package snapshot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
)

var (
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	header = Header{Job: "backup-1", Pass: 7, Prefix: "backups/2026-01-02/", Started: t0, Base: "backups/2026-01-01/"}
)

func sampleEntries() []Entry {
	return []Entry{
		{Key: "a&b<c>", Size: 3, ModTime: t0, CRC64: 0xffffffffffffffff, HasCRC64: true, ETag: "e1", DestETag: "d1"},
		{Key: "dir/" + strings.Repeat("k", 1023-4), Size: 0, ModTime: t0.Add(time.Second)},
		{Key: "dir/z\u00e9", Size: 10, CRC64: 1, HasCRC64: true},
	}
}

func writeManifest(t *testing.T, h Header, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, w.Add(e))
	}
	tr, err := w.Close(t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(len(entries)), tr.Objects)
	return buf.Bytes()
}

func TestManifestRoundTrip(t *testing.T) {
	data := writeManifest(t, header, sampleEntries())
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 5)
	require.Equal(t, `{"format":"ferry-snapshot/1","job":"backup-1","pass":7,"prefix":"backups/2026-01-02/","started":"2026-01-02T03:04:05.123456789Z","base":"backups/2026-01-01/"}`, lines[0])
	require.Equal(t, `{"key":"a&b<c>","size":3,"mtime":"2026-01-02T03:04:05.123456789Z","crc64":"ffffffffffffffff","etag":"e1","destEtag":"d1"}`, lines[1])
	require.Equal(t, `{"key":"dir/zé","size":10,"crc64":"0000000000000001"}`, lines[3])
	require.Equal(t, `{"end":true,"objects":3,"bytes":13,"finished":"2026-01-02T04:04:05.123456789Z"}`, lines[4])

	var got []Entry
	h, tr, err := Read(bytes.NewReader(data), func(e Entry) error {
		got = append(got, e)
		return nil
	})
	require.NoError(t, err)
	want := header
	want.Format = FormatV1
	require.Equal(t, want, h)
	require.Equal(t, Trailer{Objects: 3, Bytes: 13, Finished: t0.Add(time.Hour)}, tr)
	require.Equal(t, sampleEntries(), got)
}

func TestWriterRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"out of order", []Entry{{Key: "b"}, {Key: "a"}}, `key "a" added after "b"`},
		{"duplicate", []Entry{{Key: "a"}, {Key: "a"}}, `duplicate key "a"`},
		{"empty key", []Entry{{Key: ""}}, "empty key"},
		{"bad utf-8", []Entry{{Key: "a\xff"}}, "not valid UTF-8"},
		{"negative size", []Entry{{Key: "a", Size: -1}}, "negative size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, header)
			require.NoError(t, err)
			var last error
			for _, e := range tc.entries {
				last = w.Add(e)
			}
			require.ErrorContains(t, last, tc.want)
		})
	}
	_, err := NewWriter(&bytes.Buffer{}, Header{Prefix: "no-slash"})
	require.ErrorContains(t, err, "ending in")

	w, err := NewWriter(&bytes.Buffer{}, header)
	require.NoError(t, err)
	_, err = w.Close(t0)
	require.NoError(t, err)
	require.Error(t, w.Add(Entry{Key: "x"}))
	_, err = w.Close(t0)
	require.Error(t, err)
}

func TestReadRejects(t *testing.T) {
	good := string(writeManifest(t, header, sampleEntries()))
	lines := strings.SplitAfter(good, "\n")
	lines = lines[:len(lines)-1] // SplitAfter leaves a final ""
	join := func(ls ...string) string { return strings.Join(ls, "") }
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "empty manifest"},
		{"unknown version", strings.Replace(good, FormatV1, "ferry-snapshot/2", 1), `format "ferry-snapshot/2"; this ferry reads only "ferry-snapshot/1"`},
		{"no trailer", join(lines[:4]...), "no trailer after 3 entries"},
		{"cut mid-line", good[:len(good)-10], "cut short"},
		{"counts disagree", join(lines[0], lines[1], lines[2], lines[4]), "trailer says 3 objects, 13 bytes; the entries add up to 2 objects, 3 bytes"},
		{"out of order", join(lines[0], lines[2], lines[1], lines[3], lines[4]), "keys must strictly increase"},
		{"after trailer", good + lines[1], "data after the trailer"},
		{"not an entry", join(lines[0], "{\"size\":1}\n", lines[4]), "neither an entry"},
		{"bad crc", strings.Replace(good, "0000000000000001", "1", 1), "not 16 hex digits"},
		{"huge line", join(lines[0], `{"key":"`+strings.Repeat("x", maxLine)+"\"}\n"), "longer than"},
		{"garbage header", "not json\n", "header (line 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tc.data), func(Entry) error { return nil })
			require.ErrorIs(t, err, ErrInvalidManifest)
			require.ErrorContains(t, err, tc.want)
		})
	}
	stop := errors.New("stop")
	_, _, err := Read(strings.NewReader(good), func(Entry) error { return stop })
	require.Equal(t, stop, err, "fn's error comes back unchanged")
}

func newLocal(t *testing.T) *local.Backend {
	t.Helper()
	b, err := local.New(t.TempDir(), local.Options{})
	require.NoError(t, err)
	return b
}

func TestPutLoad(t *testing.T) {
	ctx := context.Background()
	b := newLocal(t)
	tmp := t.TempDir()

	_, _, err := Load(ctx, b, header.Prefix, func(Entry) error { return nil })
	require.ErrorIs(t, err, ErrIncomplete)
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.ErrorContains(t, err, "backups/2026-01-02.ferry-manifest")

	tr, err := Put(ctx, b, header, PutOptions{TempDir: tmp, Now: func() time.Time { return t0 }}, func(w *Writer) error {
		for _, e := range sampleEntries() {
			if err := w.Add(e); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, Trailer{Objects: 3, Bytes: 13, Finished: t0}, tr)
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the temporary file is removed")

	var n int
	h, tr2, err := Load(ctx, b, header.Prefix, func(Entry) error { n++; return nil })
	require.NoError(t, err)
	require.Equal(t, header.Job, h.Job)
	require.Equal(t, tr, tr2)
	require.Equal(t, 3, n)

	// A failing write stores nothing and leaves no file behind.
	boom := errors.New("boom")
	_, err = Put(ctx, b, Header{Prefix: "other/"}, PutOptions{TempDir: tmp}, func(*Writer) error { return boom })
	require.ErrorIs(t, err, boom)
	_, _, err = Load(ctx, b, "other/", func(Entry) error { return nil })
	require.ErrorIs(t, err, ErrIncomplete)
	left, err = os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left)

	// A damaged manifest is named in the error.
	_, err = b.Put(ctx, ManifestKey("bad/"), strings.NewReader("x\n"), storage.ObjectInfo{Size: 2})
	require.NoError(t, err)
	_, _, err = Load(ctx, b, "bad/", func(Entry) error { return nil })
	require.ErrorIs(t, err, ErrInvalidManifest)
	require.ErrorContains(t, err, "bad.ferry-manifest")
}

func TestPutTempFileMode(t *testing.T) {
	tmp := t.TempDir()
	var mode os.FileMode
	_, err := Put(context.Background(), newLocal(t), header, PutOptions{TempDir: tmp}, func(*Writer) error {
		ents, err := os.ReadDir(tmp)
		require.NoError(t, err)
		require.Len(t, ents, 1)
		fi, err := ents[0].Info()
		require.NoError(t, err)
		mode = fi.Mode().Perm()
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), mode)
}
