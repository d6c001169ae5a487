// Command hashbench measures the per-byte hashes ferry's worker may
// compute while copying (worker/hashing.go: CRC64 always, CRC64NVME or MD5
// when the plan needs them) against a plain copy of the same bytes, and
// storage/crc's CRC64 against Go's table-driven hash/crc64, on one 64 MiB
// buffer. It prints one JSON line of MB/s figures (MB = 10^6 bytes).
package main

import (
	"crypto/md5"
	"encoding/json"
	"hash"
	"hash/crc64"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ferry-migrate/ferry/storage/crc"
)

const size = 64 << 20

func main() {
	src := make([]byte, size)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(src)
	dst := make([]byte, size)
	const chunk = 32 << 10 // the SDK/net/http copy granularity, about
	rate := func(f func()) float64 {
		best := 0.0
		for range 5 {
			t := time.Now()
			f()
			if v := size / 1e6 / time.Since(t).Seconds(); v > best {
				best = v
			}
		}
		return best
	}
	feed := func(hs ...hash.Hash) func() {
		return func() {
			for _, h := range hs {
				h.Reset()
			}
			for off := 0; off < size; off += chunk {
				p := src[off : off+chunk]
				copy(dst[off:], p)
				for _, h := range hs {
					_, _ = h.Write(p)
				}
			}
		}
	}
	out := map[string]float64{
		"memcpy_mbps":       rate(feed()),
		"crc64_mbps":        rate(feed(crc.New())),
		"crc64_stdlib_mbps": rate(feed(crc64.New(crc64.MakeTable(crc64.ECMA)))),
		"crc64nvme_mbps":    rate(feed(crc.NewNVME())),
		"md5_mbps":          rate(feed(md5.New())),
		"crc64_md5_mbps":    rate(feed(crc.New(), md5.New())),
		"buffer_mib":        size >> 20,
		"chunk_kib":         chunk >> 10,
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
