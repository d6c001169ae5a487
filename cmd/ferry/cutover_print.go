package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ferry-migrate/ferry/cutover"
)

// printSwitchSteps is what the operator does between the full copy and
// the pass up to T2. The console path and the ossutil command are those
// of Alibaba Cloud's "Mirroring-based back-to-origin" guide and ossutil's
// `website` command reference; the rule itself (origin URL, prefix) is the
// operator's to fill in, so the steps point at the docs rather than guess
// options.
//
// on is " --master ADDR" when the cutover runs on a master, else "".
func printSwitchSteps(w io.Writer, c *cutover.State, on string) {
	bucket := c.DestBucket
	if bucket == "" {
		bucket = "DEST-BUCKET"
	}
	fmt.Fprintf(w, `
Full copy done. T1 = %s (recorded).

Now, in this order:
  1. Enable mirroring back-to-origin on the destination bucket %q with the source as origin
     (source: %s), so reads of objects not copied yet are fetched from the source and stored:
       console: OSS console > Buckets > %s > Data Management > Mirroring-based Back-to-origin
                (镜像回源) > Create Rule: Method "Mirroring", origin = the source's URL
       ossutil: ossutil website --method put oss://%s website-mirror.xml
                (a RoutingRule with RedirectType Mirror and MirrorURL = the source's URL; see
                ossutil's "website" command and the "Mirroring-based back-to-origin" guide)
  2. Switch the application's writes to the destination.
  3. Note the time writes were switched: T2 (date +%%s).
  4. Run: ferry cutover switch%s %s --at T2
`, c.T1.Format(time.RFC3339), bucket, c.Source, bucket, bucket, on, c.Job)
}

// printCutoverReport is `ferry cutover finish` as text.
func printCutoverReport(w io.Writer, r *cutover.Report) {
	fmt.Fprintf(w, "Cutover report, job %s: T1 %s, T2 %s, pass up to T2: %d (phase %s)\n",
		r.Job, r.T1.Format(time.RFC3339), r.T2.Format(time.RFC3339), r.Pass, r.Phase)
	fmt.Fprintf(w, "  source objects in scope (modified before T2): %d\n", r.Copied+r.Identical+r.KeptCount+r.FailedCount+r.Unaccounted)
	fmt.Fprintf(w, "    copied      %d (%d in the pass up to T2, the rest earlier and unchanged since)\n", r.Copied, r.CopiedInPass)
	fmt.Fprintf(w, "    identical   %d (already at the destination, e.g. mirrored back; not rewritten)\n", r.Identical)
	fmt.Fprintf(w, "    kept        %d (the destination holds a newer or other object: the application's, kept)\n", r.KeptCount)
	fmt.Fprintf(w, "    failed      %d\n", r.FailedCount)
	fmt.Fprintf(w, "    unaccounted %d\n", r.Unaccounted)
	fmt.Fprintf(w, "  deleted at the source since it was copied, still at the destination (not deleted): %d\n", r.DeletedAtSourceCount)
	if r.GoneAtBothEnds > 0 {
		fmt.Fprintf(w, "  deleted at the source and gone at the destination too: %d\n", r.GoneAtBothEnds)
	}
	items := func(what string, l []cutover.Item) {
		for _, it := range l {
			if it.Key == "" {
				fmt.Fprintf(w, "  %s: %s\n", what, oneLine(it.Reason))
				continue
			}
			fmt.Fprintf(w, "  %s %q (%s): %s\n", what, it.Key, bytesIEC(it.Size), oneLine(it.Reason))
		}
	}
	items("KEPT", r.Kept)
	items("FAILED", r.Failed)
	items("UNACCOUNTED", r.Other)
	for _, it := range r.DeletedAtSource {
		fmt.Fprintf(w, "  DELETED-AT-SOURCE %q (destination %q, %s, copied in pass %d)\n", it.Key, it.Dest, bytesIEC(it.Size), it.Pass)
	}
	if r.Truncated {
		fmt.Fprintln(w, "  ... lists cut at --limit; the counts are complete (--limit 0 lists everything)")
	}
	switch {
	case r.OK:
		fmt.Fprintln(w, "RESULT: OK: every source object in scope is accounted for")
	default:
		fmt.Fprintf(w, "RESULT: NOT DONE: %d failed, %d unaccounted: run `ferry cutover switch %s` again, then finish\n", r.FailedCount, r.Unaccounted, r.Job)
	}
}
