//go:build !linux

package tracker

// dropResident does nothing off Linux, where MADV_DONTNEED on a file
// mapping is not specified to keep its contents.
func dropResident(uintptr, int64) {}
