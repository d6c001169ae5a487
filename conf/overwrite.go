package conf

import (
	"github.com/ferry-migrate/ferry/task"
)

// overwrite reads overwritePolicy, falling back to what OssImport's
// isSkipExistFile meant so a copied config keeps its meaning:
// isSkipExistFile=true skips what the destination already has and never
// replaces a newer object there (if-source-newer, which also closes the
// data loss OssImport's size rule allowed); isSkipExistFile=false
// overwrites (always). A config with neither gets the safe default,
// if-source-newer. Both keys set and disagreeing: overwritePolicy wins,
// and a note names both.
func (r *reader) overwrite() task.OverwritePolicy {
	skip := r.boolean("isSkipExistFile")
	_, skipSet := r.value("isSkipExistFile")
	v, ok := r.value("overwritePolicy")
	if !ok {
		switch {
		case !skipSet:
			return task.DefaultOverwrite
		case skip:
			return task.OverwriteIfSourceNewer
		}
		return task.OverwriteAlways
	}
	p := task.OverwritePolicy(v)
	if err := p.Check(); err != nil {
		r.fail("overwritePolicy", ErrInvalid, "%w", err)
		return task.DefaultOverwrite
	}
	if skipSet && skip == (p == task.OverwriteAlways) {
		raw, _ := r.value("isSkipExistFile")
		r.note("isSkipExistFile", "isSkipExistFile=%s is overridden by overwritePolicy=%s", raw, v)
	}
	return p
}
