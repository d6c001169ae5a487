package s3

// SetCopyLimit lowers the size above which Copy copies in parts, so tests
// reach the multipart copy with small objects.
func SetCopyLimit(b *Backend, limit int64) { b.copyLimit = limit }

// CopySource exposes the x-amz-copy-source encoding to tests.
var CopySource = copySource

// CopyPartSize exposes the part size choice to tests.
var CopyPartSize = copyPartSize

// UsesDirect reports whether b sends whole GETs and single PUTs itself
// (direct.go) rather than through the SDK's operation stack.
func UsesDirect(b *Backend) bool { return b.direct != nil }
