package crc

import (
	"hash"
	"hash/crc64"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testVariant ties one CRC's public API to hash/crc64 as the reference.
type testVariant struct {
	name     string
	v        *variant
	ref      *crc64.Table
	check    uint64 // CRC of "123456789"
	newHash  func() hash.Hash64
	checksum func([]byte) uint64
	update   func(uint64, []byte) uint64
}

var testVariants = []testVariant{
	{"ECMA", ecma, crc64.MakeTable(crc64.ECMA), 0x995DC9BBDF1939FA, New, Checksum, Update},
	{"NVME", nvme, crc64.MakeTable(0x9A6C9329AC4BC9B5), 0xAE8B14860A799888, NewNVME, ChecksumNVME, UpdateNVME},
}

// randomBuf is big enough for the multi-MiB cases plus an unaligned start.
func randomBuf(t testing.TB, seed uint64, n int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestCheckVectors(t *testing.T) {
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			msg := []byte("123456789")
			assert.Equal(t, tv.check, tv.checksum(msg))
			assert.Equal(t, tv.check, tv.update(tv.update(0, msg[:3]), msg[3:]))
			assert.Equal(t, tv.check, updateGeneric(0, tv.v, msg))
			assert.Equal(t, uint64(0), tv.checksum(nil))
			assert.Equal(t, uint64(0), tv.checksum([]byte{}))
			assert.Equal(t, uint64(42), tv.update(42, nil))
		})
	}
}

func TestMatchesReference(t *testing.T) {
	const maxBig = 4 << 20
	buf := randomBuf(t, 1, maxBig+16)
	rng := rand.New(rand.NewPCG(3, 4))
	lengths := make([]int, 0, 1100)
	for n := 0; n <= 1024; n++ {
		lengths = append(lengths, n)
	}
	for range 12 {
		lengths = append(lengths, 1024+rng.IntN(maxBig-1024))
	}
	lengths = append(lengths, maxBig, 64<<10, 1<<20+15)
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			for _, n := range lengths {
				off := rng.IntN(16)
				b := buf[off : off+n]
				crc := rng.Uint64()
				if n%3 == 0 {
					crc = 0 // the usual start, as Checksum uses
				}
				want := crc64.Update(crc, tv.ref, b)
				require.Equal(t, want, tv.update(crc, b), "len %d off %d crc %#x", n, off, crc)
				require.Equal(t, want, updateGeneric(crc, tv.v, b), "generic: len %d off %d crc %#x", n, off, crc)
				if crc == 0 {
					require.Equal(t, want, tv.checksum(b), "checksum: len %d off %d", n, off)
				}
			}
		})
	}
}

func TestStreamingMatchesOneShot(t *testing.T) {
	buf := randomBuf(t, 5, 3<<20+123)
	rng := rand.New(rand.NewPCG(6, 7))
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			want := tv.checksum(buf)
			for round := range 8 {
				// Mix tiny writes, which stay on the table path, with large
				// ones that leave a tail, so the two paths hand over often.
				maxChunk := []int{1, 17, 200, 70_000}[round%4]
				h := tv.newHash()
				for off := 0; off < len(buf); {
					n := min(rng.IntN(maxChunk+1), len(buf)-off)
					if round >= 4 && rng.IntN(4) == 0 {
						n = min(rng.IntN(70_000), len(buf)-off)
					}
					_, err := h.Write(buf[off : off+n])
					require.NoError(t, err)
					off += n
				}
				require.Equal(t, want, h.Sum64(), "round %d", round)
			}
		})
	}
}

func TestHashMatchesStdlibDigest(t *testing.T) {
	buf := randomBuf(t, 8, 10_000)
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			got, ref := tv.newHash(), crc64.New(tv.ref)
			assert.Equal(t, ref.Size(), got.Size())
			assert.Equal(t, ref.BlockSize(), got.BlockSize())
			assert.Equal(t, ref.Sum(nil), got.Sum(nil), "empty")
			for _, b := range [][]byte{buf[:1], buf[1:300], buf[300:9000], buf[9000:]} {
				_, _ = got.Write(b)
				_, _ = ref.Write(b)
				prefix := []byte("prefix")
				assert.Equal(t, ref.Sum(prefix), got.Sum(prefix))
				assert.Equal(t, ref.Sum64(), got.Sum64(), "Sum must not change the state")
			}
			got.Reset()
			ref.Reset()
			assert.Equal(t, ref.Sum64(), got.Sum64())
			_, _ = got.Write([]byte("123456789"))
			assert.Equal(t, tv.check, got.Sum64(), "after Reset")
		})
	}
}

func TestClone(t *testing.T) {
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			h := tv.newHash()
			_, _ = h.Write([]byte("1234"))
			c, err := h.(hash.Cloner).Clone()
			require.NoError(t, err)
			_, _ = h.Write([]byte("56789"))
			_, _ = c.(hash.Hash64).Write([]byte("5678"))
			assert.Equal(t, tv.check, h.Sum64())
			assert.Equal(t, tv.checksum([]byte("12345678")), c.(hash.Hash64).Sum64())
		})
	}
}

func FuzzUpdate(f *testing.F) {
	f.Add(uint64(0), []byte("123456789"), uint16(4))
	f.Add(^uint64(0), make([]byte, 200), uint16(100))
	f.Add(uint64(0x0123456789abcdef), make([]byte, 1500), uint16(1))
	f.Fuzz(func(t *testing.T, crc uint64, data []byte, split uint16) {
		cut := min(int(split), len(data))
		for _, tv := range testVariants {
			want := crc64.Update(crc, tv.ref, data)
			if got := tv.update(crc, data); got != want {
				t.Fatalf("%s: Update(%#x, %d bytes) = %#x, want %#x", tv.name, crc, len(data), got, want)
			}
			if got := updateGeneric(crc, tv.v, data); got != want {
				t.Fatalf("%s: generic(%#x, %d bytes) = %#x, want %#x", tv.name, crc, len(data), got, want)
			}
			if got := tv.update(tv.update(crc, data[:cut]), data[cut:]); got != want {
				t.Fatalf("%s: split at %d = %#x, want %#x", tv.name, cut, got, want)
			}
		}
	})
}
