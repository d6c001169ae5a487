package hdfs

import (
	"bytes"
	"crypto/md5"
	"errors"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// fakeFS is an in-memory fs: the whole of what the backend sees of HDFS,
// with faults injected per path. It answers as the client does: errors
// are *os.PathError around os.ErrNotExist / os.ErrPermission or whatever
// was injected, and directory listings come in no particular order (map
// order), so the backend's own sorting is what the tests see.
type fakeFS struct {
	mu    sync.Mutex
	nodes map[string]*fakeNode // absolute path → node; "/" always exists
	errs  map[string]error     // path → error of every call on it
	reads []string             // paths given to ReadDir, in call order
	stats []string             // paths given to Stat, in call order
}

type fakeNode struct {
	data    []byte
	dir     bool
	symlink bool
	mtime   time.Time
}

// newFake holds objs (key → content) under root, with parents created.
func newFake(root string, objs map[string][]byte) *fakeFS {
	f := &fakeFS{nodes: map[string]*fakeNode{"/": {dir: true}}, errs: map[string]error{}}
	f.mkdirAll(root)
	for k, data := range objs {
		f.put(path.Join(root, k), data)
	}
	return f
}

var fakeTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func (f *fakeFS) mkdirAll(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mkdirAllLocked(p)
}

func (f *fakeFS) mkdirAllLocked(p string) {
	for q := path.Clean(p); q != "/"; q = path.Dir(q) {
		if _, ok := f.nodes[q]; !ok {
			f.nodes[q] = &fakeNode{dir: true, mtime: fakeTime}
		}
	}
}

func (f *fakeFS) put(p string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mkdirAllLocked(path.Dir(p))
	f.nodes[p] = &fakeNode{data: bytes.Clone(data), mtime: fakeTime.Add(time.Duration(len(f.nodes)) * time.Second)}
}

func (f *fakeFS) symlink(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mkdirAllLocked(path.Dir(p))
	f.nodes[p] = &fakeNode{symlink: true, mtime: fakeTime}
}

func (f *fakeFS) fail(p string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[p] = err
}

// lookup finds p as HDFS resolves it: a file in the middle of the path
// means "does not exist".
func (f *fakeFS) lookup(op, p string) (*fakeNode, error) {
	if err := f.errs[p]; err != nil {
		return nil, err
	}
	for q := path.Dir(p); q != "/"; q = path.Dir(q) {
		if n, ok := f.nodes[q]; ok && !n.dir {
			return nil, &os.PathError{Op: op, Path: p, Err: os.ErrNotExist}
		}
	}
	n, ok := f.nodes[p]
	if !ok {
		return nil, &os.PathError{Op: op, Path: p, Err: os.ErrNotExist}
	}
	return n, nil
}

func (f *fakeFS) ReadDir(p string) ([]fileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, p)
	n, err := f.lookup("readdir", p)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, &os.PathError{Op: "readdir", Path: p, Err: errors.New("not a directory")}
	}
	var out []fileInfo
	for q, c := range f.nodes {
		if q != "/" && path.Dir(q) == p {
			out = append(out, c.info(path.Base(q)))
		}
	}
	return out, nil
}

func (f *fakeFS) Stat(p string) (fileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats = append(f.stats, p)
	n, err := f.lookup("stat", p)
	if err != nil {
		return fileInfo{}, err
	}
	return n.info(path.Base(p)), nil
}

func (f *fakeFS) Open(p string) (file, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup("open", p)
	if err != nil {
		return nil, err
	}
	return &fakeFile{Reader: bytes.NewReader(n.data), data: n.data}, nil
}

func (n *fakeNode) info(name string) fileInfo {
	return fileInfo{Name: name, Size: int64(len(n.data)), ModTime: n.mtime, Dir: n.dir, Symlink: n.symlink}
}

// readsUnder counts directory reads at or below dir.
func (f *fakeFS) readsUnder(dir string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.reads {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			n++
		}
	}
	return n
}

type fakeFile struct {
	*bytes.Reader
	data   []byte
	closed bool
}

func (f *fakeFile) Close() error { f.closed = true; return nil }

// Checksum stands in for HDFS's MD5-of-MD5-of-CRC32C: any stable digest
// of the content serves to test the plumbing.
func (f *fakeFile) Checksum() ([]byte, error) {
	sum := md5.Sum(f.data)
	return sum[:], nil
}
