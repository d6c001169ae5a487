package crc

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChecksumVector(t *testing.T) {
	// The CRC-64/XZ (ECMA-182 reflected) check value, which OSS uses.
	assert.Equal(t, uint64(0x995DC9BBDF1939FA), Checksum([]byte("123456789")))
	h := New()
	_, _ = h.Write([]byte("1234"))
	_, _ = h.Write([]byte("56789"))
	assert.Equal(t, uint64(0x995DC9BBDF1939FA), h.Sum64())
	assert.Equal(t, uint64(0), Checksum(nil))
}

func TestCombineMatchesWholeBuffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20+17)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	whole := Checksum(buf)
	cases := []struct {
		name  string
		sizes []int
	}{
		{"two halves", []int{len(buf) / 2, len(buf) - len(buf)/2}},
		{"uneven", []int{1, 4095, 65536, 3, len(buf) - 1 - 4095 - 65536 - 3}},
		{"empty parts", []int{0, 100, 0, len(buf) - 100, 0}},
		{"one byte last", []int{len(buf) - 1, 1}},
		{"single", []int{len(buf)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var acc uint64
			off := 0
			for _, n := range tc.sizes {
				part := buf[off : off+n]
				acc = Combine(acc, Checksum(part), int64(n))
				off += n
			}
			require.Equal(t, len(buf), off, "test sizes must cover the buffer")
			assert.Equal(t, whole, acc)
		})
	}
	// Random splits, many parts.
	for i := 0; i < 20; i++ {
		var acc uint64
		for off := 0; off < len(buf); {
			n := min(rng.IntN(200_000), len(buf)-off)
			acc = Combine(acc, Checksum(buf[off:off+n]), int64(n))
			off += n
		}
		assert.Equal(t, whole, acc, "random split %d", i)
	}
}

func TestUpdateContinues(t *testing.T) {
	assert.Equal(t, Checksum([]byte("123456789")), Update(Checksum([]byte("123")), []byte("456789")))
}

func TestParseOSS(t *testing.T) {
	cases := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"11051210869376104954", 0x995DC9BBDF1939FA, false},
		{" 0 ", 0, false},
		{"18446744073709551615", ^uint64(0), false},
		{"18446744073709551616", 0, true},
		{"-1", 0, true},
		{"0x99", 0, true},
		{"", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseOSS(tc.in)
		if tc.wantErr {
			assert.ErrorContains(t, err, "x-oss-hash-crc64ecma", "input %q", tc.in)
			continue
		}
		require.NoError(t, err, "input %q", tc.in)
		assert.Equal(t, tc.want, got)
		assert.Equal(t, tc.want, must(ParseOSS(FormatOSS(got))))
	}
}

func must(v uint64, err error) uint64 {
	if err != nil {
		panic(err)
	}
	return v
}

func BenchmarkCombine(b *testing.B) {
	for b.Loop() {
		Combine(0x1234, 0x5678, 8<<20)
	}
}
