package httplist

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// spoolFile reads the sorted spool: binary search by key over byte
// offsets (records have no fixed size, so a probe skips to the next record
// start), then a sequential scan. Each lookup costs O(log n) small reads
// that the page cache serves, and no memory per record.
type spoolFile struct {
	f    *os.File
	size int64
}

func openSpool(path string) (*spoolFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the URL list's spool: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the URL list's spool: %w", err)
	}
	return &spoolFile{f: f, size: fi.Size()}, nil
}

func (s *spoolFile) Close() error { return s.f.Close() }

// recordAt returns the first record starting at or after off, its start
// and its length; start == s.size at the end.
func (s *spoolFile) recordAt(off int64) (start int64, key, url string, n int64, err error) {
	start = off
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, max(off-1, 0), s.size), 4096)
	if off > 0 {
		// The byte before off ends a record exactly when off starts one.
		skipped, err := r.ReadString('\n')
		if err == io.EOF {
			return s.size, "", "", 0, nil
		}
		if err != nil {
			return 0, "", "", 0, err
		}
		start = off - 1 + int64(len(skipped))
	}
	line, err := r.ReadString('\n')
	if err == io.EOF && line == "" {
		return s.size, "", "", 0, nil
	}
	if err != nil && err != io.EOF {
		return 0, "", "", 0, err
	}
	key, url, _ = strings.Cut(strings.TrimSuffix(line, "\n"), "\x00")
	return start, key, url, int64(len(line)), nil
}

// search returns the offset of the first record whose key satisfies
// after, a predicate false then true along the sorted spool.
func (s *spoolFile) search(after func(key string) bool) (int64, error) {
	lo, hi := int64(0), s.size // lo: a record start, every record before it false; hi: size or a true record
	for hi-lo > 8192 {
		mid := lo + (hi-lo)/2
		start, key, _, n, err := s.recordAt(mid)
		if err != nil {
			return 0, fmt.Errorf("reading the URL list's spool: %w", err)
		}
		if start >= hi {
			break
		}
		if after(key) {
			hi = start
		} else {
			lo = start + n
		}
	}
	for lo < hi {
		start, key, _, n, err := s.recordAt(lo)
		if err != nil {
			return 0, fmt.Errorf("reading the URL list's spool: %w", err)
		}
		if start >= s.size || after(key) {
			return start, nil
		}
		lo = start + n
	}
	return hi, nil
}

// lookup returns the URL of key, or ok false.
func (s *spoolFile) lookup(key string) (string, bool, error) {
	off, err := s.search(func(k string) bool { return k >= key })
	if err != nil || off >= s.size {
		return "", false, err
	}
	_, k, url, _, err := s.recordAt(off)
	if err != nil {
		return "", false, fmt.Errorf("reading the URL list's spool: %w", err)
	}
	return url, k == key, nil
}

// scanner streams records from off.
func (s *spoolFile) scanner(off int64) *bufio.Reader {
	return bufio.NewReaderSize(io.NewSectionReader(s.f, off, s.size-off), 256<<10)
}

func nextRecord(r *bufio.Reader) (key, url string, ok bool, err error) {
	line, err := r.ReadString('\n')
	if err == io.EOF && line == "" {
		return "", "", false, nil
	}
	if err != nil && err != io.EOF {
		return "", "", false, fmt.Errorf("reading the URL list's spool: %w", err)
	}
	key, url, _ = strings.Cut(strings.TrimSuffix(line, "\n"), "\x00")
	return key, url, true, nil
}
