package conf

// deletes reads the delete-propagation keys. Deleting is only safe when
// "no source object in this pass" means "no such source object": every
// source object under srcPrefix must be listed and given a result. A
// filter breaks that (an excluded or out-of-window key has no result, yet
// exists at the source), and an audit copies nothing to compare against,
// so both are refused rather than guessed at.
func (r *reader) deletes(j *Job) Deletes {
	d := Deletes{
		Enabled:    r.boolean("deleteExtraneous"),
		MaxCount:   r.integer("deleteMaxCount", 1),
		MaxPercent: r.rate("deleteMaxPercent"),
		DryRun:     r.boolean("deleteDryRun"),
	}
	if d.MaxPercent <= 0 || d.MaxPercent > 100 {
		r.fail("deleteMaxPercent", ErrInvalid, "%v: give a percentage above 0 and at most 100 (100 turns the percentage guard off)", d.MaxPercent)
	}
	if !d.Enabled {
		for _, k := range []string{"deleteMaxCount", "deleteMaxPercent", "deleteDryRun"} {
			// A printed config carries the defaults: only a changed value
			// suggests the operator expected something.
			if v, set := r.value(k); set && v != defaults[k] {
				r.note(k, "%s is ignored: deleteExtraneous is false (set deleteExtraneous=true, with deleteDryRun=true for a dry run)", k)
			}
		}
		return d
	}
	r.checkDeletable(j, "deleteExtraneous")
	return d
}

// checkDeletable refuses deletes where "no source object in this pass"
// would not mean "no such source object" (see deletes), naming key as
// the setting that asked for them. It says whether none was refused.
func (r *reader) checkDeletable(j *Job, key string) bool {
	ok := true
	if j.Type != JobImport {
		r.fail(key, ErrInvalid, "deleting applies to jobType=import only: %s never deletes at its destination; set deleteExtraneous=false", j.Type)
		ok = false
	}
	for _, f := range []struct {
		key string
		set bool
	}{{"importSince", !j.ImportSince.IsZero()}, {"importUntil", !j.ImportUntil.IsZero()},
		{"include", len(j.Include) > 0}, {"exclude", len(j.Exclude) > 0}} {
		if k := f.key; f.set {
			r.fail(key, ErrInvalid, "deleting at the destination cannot be combined with %s: objects the filter leaves out still exist at the source and would be deleted at the destination; remove %s or set deleteExtraneous=false", k, k)
			ok = false
		}
	}
	return ok
}
