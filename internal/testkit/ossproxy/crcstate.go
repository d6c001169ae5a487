package ossproxy

import (
	"hash"
	"io"
	"sync"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// crcStore remembers what OSS would know: the CRC-64/ECMA of every object
// and multipart part stored through the proxy. versitygw has no such
// notion, so objects the proxy did not see being written have no CRC, which
// is also how OSS treats some copied objects.
type crcStore struct {
	mu      sync.Mutex
	objects map[objectKey]uint64
	parts   map[partKey]partCRC
}

type objectKey struct{ bucket, key string }

type partKey struct {
	uploadID string
	number   int
}

type partCRC struct {
	crc  uint64
	size int64
}

func (s *crcStore) init() {
	s.objects = make(map[objectKey]uint64)
	s.parts = make(map[partKey]partCRC)
}

func (s *crcStore) object(k objectKey) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.objects[k]
	return v, ok
}

func (s *crcStore) setObject(k objectKey, v uint64) {
	s.mu.Lock()
	s.objects[k] = v
	s.mu.Unlock()
}

func (s *crcStore) forgetObject(k objectKey) {
	s.mu.Lock()
	delete(s.objects, k)
	s.mu.Unlock()
}

func (s *crcStore) setPart(k partKey, v partCRC) {
	s.mu.Lock()
	s.parts[k] = v
	s.mu.Unlock()
}

func (s *crcStore) forgetPart(k partKey) {
	s.mu.Lock()
	delete(s.parts, k)
	s.mu.Unlock()
}

// combine returns the CRC of the parts concatenated in the order given,
// without touching their bytes; false when any part has no CRC (copied
// parts, or parts uploaded before the proxy started), as OSS then omits it.
func (s *crcStore) combine(uploadID string, numbers []int) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var acc uint64
	for _, n := range numbers {
		p, ok := s.parts[partKey{uploadID, n}]
		if !ok {
			return 0, false
		}
		acc = crc.Combine(acc, p.crc, p.size)
	}
	return acc, true
}

func (s *crcStore) forgetUpload(uploadID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.parts {
		if k.uploadID == uploadID {
			delete(s.parts, k)
		}
	}
}

// hashingBody is an upload body on its way upstream: it flips the byte a
// FlipByte fault names, then hashes what it passes on, so the CRC describes
// exactly what the server stores. It streams; nothing is buffered.
type hashingBody struct {
	rc     io.ReadCloser
	flipAt int64 // -1: none

	// mu guards the rest: Read runs on the transport's write goroutine,
	// sum on the handler's.
	mu  sync.Mutex
	h   hash.Hash64
	n   int64
	eof bool
}

func newHashingBody(rc io.ReadCloser, flipAt int64) *hashingBody {
	return &hashingBody{rc: rc, flipAt: flipAt, h: crc.New()}
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flipAt >= b.n && b.flipAt < b.n+int64(n) {
		p[b.flipAt-b.n] ^= 0xFF
	}
	_, _ = b.h.Write(p[:n])
	b.n += int64(n)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.rc.Close() }

// sum returns the CRC and length of what passed; ok is false unless the
// whole body (want bytes, or up to EOF when want is unknown) went through.
func (b *hashingBody) sum(want int64) (v uint64, n int64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.h.Sum64(), b.n, b.eof || (want >= 0 && b.n == want)
}
