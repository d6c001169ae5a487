package tracker

import "golang.org/x/sys/unix"

// dropResident zaps the page table entries of the read-only shared file
// mapping at [addr, addr+size). For such a mapping MADV_DONTNEED loses
// nothing: later accesses fault the same page-cache pages back in
// (madvise(2)). The address is passed as a number on purpose: it never
// becomes a Go pointer.
func dropResident(addr uintptr, size int64) {
	if addr == 0 || size <= 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED)
}
