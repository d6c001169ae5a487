//go:build !amd64 || purego

package crc

func update(crc uint64, v *variant, p []byte) uint64 { return updateGeneric(crc, v, p) }
