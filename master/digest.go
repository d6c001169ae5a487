package master

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"io"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

type sums struct {
	size      int64
	crc       uint64
	md5       string // hex MD5 of the whole object
	multipart string // "<hex md5 of part md5s>-N" for parts of partSize
}

// digest reads r once and computes every digest a destination may report.
func digest(r io.Reader, partSize int64) (sums, error) {
	var (
		s      sums
		whole  = md5.New()
		c      = crc.New()
		part   hash.Hash
		parts  [][]byte
		inPart int64
	)
	if partSize > 0 {
		part = md5.New()
	}
	buf := make([]byte, 256<<10)
	for {
		m, err := r.Read(buf)
		b := buf[:m]
		whole.Write(b)
		c.Write(b)
		s.size += int64(m)
		for part != nil && len(b) > 0 {
			take := min(int64(len(b)), partSize-inPart)
			part.Write(b[:take])
			inPart += take
			b = b[take:]
			if inPart == partSize {
				parts = append(parts, part.Sum(nil))
				part.Reset()
				inPart = 0
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
	}
	if part != nil && inPart > 0 {
		parts = append(parts, part.Sum(nil))
	}
	s.crc = c.Sum64()
	s.md5 = hex.EncodeToString(whole.Sum(nil))
	if len(parts) > 0 {
		s.multipart = storage.MultipartETag(parts)
	}
	return s, nil
}
