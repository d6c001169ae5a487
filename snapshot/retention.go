package snapshot

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy says which complete snapshots retention keeps, with the meaning
// of restic's `forget --keep-*` options. A count of 0 disables its rule; a
// negative count keeps every bucket of its kind (restic's "unlimited").
// The zero Policy keeps everything.
type Policy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
}

// IsZero reports whether no rule is set: nothing is ever removed.
func (p Policy) IsZero() bool { return p == Policy{} }

// String is the policy for logs: "keep-last 2, keep-daily 7".
func (p Policy) String() string {
	if p.IsZero() {
		return "keep everything (no retention policy)"
	}
	var parts []string
	for _, r := range p.rules() {
		switch {
		case r.count > 0:
			parts = append(parts, fmt.Sprintf("keep-%s %d", r.name, r.count))
		case r.count < 0:
			parts = append(parts, fmt.Sprintf("keep-%s unlimited", r.name))
		}
	}
	return strings.Join(parts, ", ")
}

// Snap is one complete snapshot as retention sees it.
type Snap struct {
	ID   string // e.g. its prefix
	Time time.Time
}

// Decision is what retention does with one snapshot, and why it keeps it.
type Decision struct {
	Snap
	Keep    bool
	Reasons []string // empty when Keep is false
}

// Reason ferry adds to the newest snapshot: it is never removed, so a
// mistaken policy can never leave a job with no backup.
const ReasonNewest = "newest snapshot (never removed)"

type rule struct {
	name   string // option name: keep-<name>
	reason string // as restic prints it
	count  int
	bucket func(t time.Time, nr int) int
}

func (p Policy) rules() []rule {
	return []rule{
		{"last", "last snapshot", p.Last, func(_ time.Time, nr int) int { return nr }},
		{"hourly", "hourly snapshot", p.Hourly, func(t time.Time, _ int) int {
			return t.Year()*1000000 + int(t.Month())*10000 + t.Day()*100 + t.Hour()
		}},
		{"daily", "daily snapshot", p.Daily, func(t time.Time, _ int) int {
			return t.Year()*10000 + int(t.Month())*100 + t.Day()
		}},
		{"weekly", "weekly snapshot", p.Weekly, func(t time.Time, _ int) int {
			y, w := t.ISOWeek()
			return y*100 + w
		}},
		{"monthly", "monthly snapshot", p.Monthly, func(t time.Time, _ int) int {
			return t.Year()*100 + int(t.Month())
		}},
		{"yearly", "yearly snapshot", p.Yearly, func(t time.Time, _ int) int { return t.Year() }},
	}
}

// Apply decides, for every snapshot, whether p keeps it. The answer is
// restic's `forget` (internal/restic/snapshot_policy.go):
//
//   - snapshots are taken newest first (equal times ordered by ID, so the
//     answer does not depend on the input order);
//   - keep-last N keeps the N newest;
//   - each of keep-hourly/daily/weekly/monthly/yearly N walks them newest
//     first and keeps a snapshot whose bucket (hour, day, ISO year and
//     week, month, year, computed in loc) differs from the bucket of the
//     last one it kept, until it has kept N; a rule that still has count
//     left when it reaches the oldest snapshot keeps that one too, as
//     restic 0.17 does, so a young backup set keeps its full history;
//   - a snapshot is kept if any rule keeps it, with every such rule named.
//
// ferry adds one rule: the newest snapshot is always kept (ReasonNewest).
// restic keeps it anyway under any non-empty policy, since it opens a new
// bucket for every rule; the reason makes the guarantee visible.
//
// Decisions come newest first. The zero policy keeps everything, as
// restic's empty policy does ("policy is empty").
func (p Policy) Apply(snaps []Snap, loc *time.Location) []Decision {
	if loc == nil {
		loc = time.UTC
	}
	out := make([]Decision, len(snaps))
	for i, s := range snaps {
		out[i] = Decision{Snap: s}
	}
	slices.SortFunc(out, func(a, b Decision) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if p.IsZero() {
		for i := range out {
			out[i].Keep, out[i].Reasons = true, []string{"policy is empty"}
		}
		return out
	}
	rules := p.rules()
	last := make([]int, len(rules))
	for i := range last {
		last[i] = -1
	}
	for nr := range out {
		t := out[nr].Time.In(loc)
		for i := range rules {
			r := &rules[i]
			if r.count == 0 {
				continue
			}
			b := r.bucket(t, nr)
			if b != last[i] || nr == len(out)-1 {
				last[i] = b
				if r.count > 0 {
					r.count--
				}
				out[nr].Keep = true
				out[nr].Reasons = append(out[nr].Reasons, r.reason)
			}
		}
	}
	if len(out) > 0 {
		out[0].Keep = true
		out[0].Reasons = append(out[0].Reasons, ReasonNewest)
	}
	return out
}
