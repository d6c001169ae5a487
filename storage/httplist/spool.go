package httplist

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The spool is the list sorted by key, one record a line: key, NUL, URL.
// It is built by an external merge sort: the list is read in chunks of at
// most Options.ChunkBytes of records, each sorted in memory and written to
// a run file; the runs are then merged into the spool. Two lines with the
// same key keep the later one (as a later PUT would), and OnSkip hears of
// the earlier. The spool is written to a temporary name and renamed, so a
// crash never leaves a partial spool that a restart would trust.

// spoolFormat names the spool's layout and the list-parsing rules that
// made it: a change to either must not reuse spools an older ferry wrote.
const spoolFormat = "ferry-httplist-spool-1"

// maxLine bounds one line of the list: a key is at most 1023 bytes, so a
// longer line is garbage, not an object.
const maxLine = 64 << 10

// spoolPath returns the path of the sorted spool, building it first if
// this list (path, size, mtime, columns) has none yet.
func (b *Backend) spoolPath(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spool != "" {
		return b.spool, nil
	}
	fi, err := os.Stat(b.o.ListFile)
	if err != nil {
		return "", fmt.Errorf("reading the URL list: %w", err)
	}
	dir := b.o.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	id := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%d\x00%d", spoolFormat, b.o.ListFile, fi.Size(), fi.ModTime().UnixNano(), b.o.PrefixColumn, b.o.RelativeColumn)))
	path := filepath.Join(dir, "ferry-httplist-"+hex.EncodeToString(id[:12])+".spool")
	if _, err := os.Stat(path); err == nil {
		b.spool = path
		return path, nil
	}
	if err := b.buildSpool(ctx, path); err != nil {
		return "", err
	}
	b.spool = path
	return path, nil
}

type record struct {
	key, url string
	line     int
}

func (b *Backend) buildSpool(ctx context.Context, path string) error {
	work, err := os.MkdirTemp(filepath.Dir(path), "ferry-httplist-sort-")
	if err != nil {
		return fmt.Errorf("sorting the URL list: %w", err)
	}
	defer os.RemoveAll(work)
	runs, err := b.writeRuns(ctx, work)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("sorting the URL list: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: a no-op
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := b.merge(ctx, runs, w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the URL list's spool: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the URL list's spool: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the URL list's spool: %w", err)
	}
	return nil
}

// writeRuns reads the list and writes sorted runs of at most ChunkBytes.
func (b *Backend) writeRuns(ctx context.Context, dir string) ([]string, error) {
	f, err := os.Open(b.o.ListFile)
	if err != nil {
		return nil, fmt.Errorf("reading the URL list: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var (
		runs  []string
		chunk []record
		size  int
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		name := filepath.Join(dir, "run-"+strconv.Itoa(len(runs)))
		if err := b.writeRun(name, chunk); err != nil {
			return err
		}
		runs = append(runs, name)
		chunk, size = chunk[:0], 0
		return nil
	}
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e, err := parseLine(sc.Text(), b.o.PrefixColumn, b.o.RelativeColumn)
		if errors.Is(err, errSkipLine) {
			continue
		}
		if err != nil {
			b.skip(b.lineName(n), err)
			continue
		}
		chunk = append(chunk, record{key: e.key, url: e.url, line: n})
		// Strings plus the record header: close enough to what Go holds.
		size += len(e.key) + len(e.url) + 48
		if size >= b.o.ChunkBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the URL list: %w", err)
	}
	return runs, flush()
}

func (b *Backend) skip(what string, err error) {
	if b.o.OnSkip != nil {
		b.o.OnSkip(what, err)
	}
}

// writeRun sorts chunk by key, then line, and writes it keeping the last
// line of each key. Runs keep the line number so the merge can name both
// lines of a duplicate.
func (b *Backend) writeRun(name string, chunk []record) error {
	slices.SortFunc(chunk, func(x, y record) int {
		return cmp.Or(strings.Compare(x.key, y.key), cmp.Compare(x.line, y.line))
	})
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("sorting the URL list: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i, r := range chunk {
		if i+1 < len(chunk) && chunk[i+1].key == r.key {
			b.duplicate(r, chunk[i+1].line)
			continue
		}
		w.WriteString(strconv.Itoa(r.line) + "\x00" + r.key + "\x00" + r.url + "\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("sorting the URL list: %w", err)
	}
	return f.Close()
}

func (b *Backend) duplicate(r record, later int) {
	b.skip(b.lineName(r.line), fmt.Errorf("key %q is listed again on line %d, which wins", r.key, later))
}

// lineName names a line of the list for OnSkip ("urls.list:17"): the
// master records it like a skipped key, and it must not pass for one.
func (b *Backend) lineName(n int) string {
	return filepath.Base(b.o.ListFile) + ":" + strconv.Itoa(n)
}

// runReader reads one run's records in order.
type runReader struct {
	f   *os.File
	r   *bufio.Reader
	cur record
	idx int // run number: later runs hold later lines
}

func (rr *runReader) next() (bool, error) {
	line, err := rr.r.ReadString('\n')
	if err == io.EOF && line == "" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sorting the URL list: %w", err)
	}
	n, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\x00")
	key, u, _ := strings.Cut(rest, "\x00")
	ln, _ := strconv.Atoi(n)
	rr.cur = record{key: key, url: u, line: ln}
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	return cmp.Or(strings.Compare(h[i].cur.key, h[j].cur.key), cmp.Compare(h[i].cur.line, h[j].cur.line)) < 0
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge writes the runs' records to w in key order, the last line of each
// key only, as spool records (key NUL url).
func (b *Backend) merge(ctx context.Context, runs []string, w *bufio.Writer) error {
	h := make(runHeap, 0, len(runs))
	defer func() {
		for _, rr := range h {
			rr.f.Close()
		}
	}()
	for i, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("sorting the URL list: %w", err)
		}
		rr := &runReader{f: f, r: bufio.NewReaderSize(f, 64<<10), idx: i}
		ok, err := rr.next()
		if err != nil {
			f.Close()
			return err
		}
		if !ok {
			f.Close()
			continue
		}
		h = append(h, rr)
	}
	heap.Init(&h)
	var (
		pending record
		have    bool
		n       int
	)
	for h.Len() > 0 {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rr := h[0]
		r := rr.cur
		if have && pending.key == r.key {
			b.duplicate(pending, r.line)
		} else if have {
			w.WriteString(pending.key + "\x00" + pending.url + "\n")
		}
		pending, have = r, true
		ok, err := rr.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			rr.f.Close()
			heap.Pop(&h)
		}
	}
	if have {
		w.WriteString(pending.key + "\x00" + pending.url + "\n")
	}
	return nil
}
