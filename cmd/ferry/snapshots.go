package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/master"
)

// snapshotInfo is one snapshot as `ferry snapshots --json` prints it
// (package statjson).
type snapshotInfo = statjson.Snapshot

func toSnapshotInfo(s master.SnapshotInfo) snapshotInfo { return statjson.SnapshotOf(s) }

func toSnapshotPtr(s *master.SnapshotInfo) *snapshotInfo { return statjson.SnapshotPtr(s) }

// snapshotLine describes one snapshot in a sentence, for `ferry stat`
// and the end-of-pass report of `ferry run`, which say the same.
func snapshotLine(s snapshotInfo) string {
	base := s.BasePrefix
	if base == "" {
		base = "none"
	}
	return fmt.Sprintf("%s %s, %d objects, %s, base %s, server-side copies %d (%s), read from the source %s",
		s.Prefix, s.State, s.Objects, bytesIEC(s.Bytes), base, s.ServerCopied, bytesIEC(s.ServerCopiedBytes), bytesIEC(s.BytesRead))
}

func cmdSnapshots(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "snapshots", "JOB")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print a JSON array")
	all := fs.Bool("all", false, "show removed snapshots too")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	job := fs.Arg(0)
	var ss []master.SnapshotInfo
	err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		ss, err = c.Snapshots(ctx, job)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	shown := make([]snapshotInfo, 0, len(ss))
	for _, s := range ss {
		if *all || s.State != master.SnapshotRemoved {
			shown = append(shown, toSnapshotInfo(s))
		}
	}
	if *asJSON {
		return printJSON(e, shown)
	}
	if len(ss) == 0 {
		fmt.Fprintf(e.stdout, "job %s has no snapshots: it is not a backupKind=snapshot job\n", job)
		return exitOK
	}
	printSnapshots(e, shown)
	if hidden := len(ss) - len(shown); hidden > 0 {
		fmt.Fprintf(e.stdout, "%d removed snapshot(s) hidden; --all shows them\n", hidden)
	}
	return exitOK
}

// printSnapshots prints the table, a snapshot's reason for removal on an
// indented line under its row. Columns are sized to their widest cell:
// a tabwriter would realign at every such line.
func printSnapshots(e *env, ss []snapshotInfo) {
	rows := [][]string{{"PASS", "STARTED", "STATE", "OBJECTS", "BYTES", "BASE", "READ", "SERVER-COPIED", "PREFIX"}}
	for _, s := range ss {
		base := "-"
		if s.Base != 0 {
			base = strconv.FormatUint(s.Base, 10)
		}
		rows = append(rows, []string{strconv.FormatUint(s.Pass, 10), s.Started.Format(time.RFC3339), s.State,
			strconv.FormatInt(s.Objects, 10), bytesIEC(s.Bytes), base, bytesIEC(s.BytesRead),
			fmt.Sprintf("%d (%s)", s.ServerCopied, bytesIEC(s.ServerCopiedBytes)), s.Prefix})
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for i, r := range rows {
		var b strings.Builder
		for j, c := range r {
			if j == len(r)-1 {
				b.WriteString(c) // no trailing blanks after the last column
				break
			}
			fmt.Fprintf(&b, "%-*s  ", width[j], c)
		}
		fmt.Fprintln(e.stdout, b.String())
		if i > 0 && ss[i-1].Why != "" {
			fmt.Fprintf(e.stdout, "    why: %s\n", oneLine(ss[i-1].Why))
		}
	}
}
