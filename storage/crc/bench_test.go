package crc

import (
	"fmt"
	"hash/crc64"
	"testing"
)

var benchSizes = []int{64 << 10, 1 << 20}

func benchUpdate(b *testing.B, sizes []int, fn func(uint64, []byte) uint64) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			buf := randomBuf(b, 1, n)
			b.SetBytes(int64(n))
			var crc uint64
			for b.Loop() {
				crc = fn(crc, buf)
			}
		})
	}
}

func BenchmarkECMA(b *testing.B) { benchUpdate(b, benchSizes, Update) }

func BenchmarkNVME(b *testing.B) { benchUpdate(b, benchSizes, UpdateNVME) }

func BenchmarkStdlibECMA(b *testing.B) {
	tab := crc64.MakeTable(crc64.ECMA)
	benchUpdate(b, benchSizes, func(crc uint64, p []byte) uint64 { return crc64.Update(crc, tab, p) })
}

// BenchmarkStdlibNVME shows what hash/crc64 costs for a polynomial it has no
// prebuilt slicing tables for.
func BenchmarkStdlibNVME(b *testing.B) {
	tab := crc64.MakeTable(nvmePoly)
	benchUpdate(b, benchSizes, func(crc uint64, p []byte) uint64 { return crc64.Update(crc, tab, p) })
}

func BenchmarkGenericNVME(b *testing.B) {
	benchUpdate(b, benchSizes, func(crc uint64, p []byte) uint64 { return updateGeneric(crc, nvme, p) })
}

// BenchmarkSmall is for tuning clmulMin: compare the dispatching path with
// the portable one around the threshold.
func BenchmarkSmall(b *testing.B) {
	for _, n := range []int{16, 32, 48, 63, 64, 96, 128, 256} {
		buf := randomBuf(b, 2, n)
		for _, bc := range []struct {
			name string
			fn   func(uint64, []byte) uint64
		}{
			{"dispatch", func(c uint64, p []byte) uint64 { return update(c, ecma, p) }},
			{"generic", func(c uint64, p []byte) uint64 { return updateGeneric(c, ecma, p) }},
		} {
			b.Run(fmt.Sprintf("%d/%s", n, bc.name), func(b *testing.B) {
				b.SetBytes(int64(n))
				var crc uint64
				for b.Loop() {
					crc = bc.fn(crc, buf)
				}
			})
		}
	}
}
