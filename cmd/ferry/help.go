package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-migrate/ferry/internal/textdist"
)

// maxSuggestDistance bounds "did you mean": two edits catch a missing,
// extra or swapped letter ("stats", "stta", "retyr"). Short words get at
// most len/2 edits: with two, "wor" would be as near "run" and "jobs" as
// "worker", and a hint that rewrites half the word is noise.
const maxSuggestDistance = 2

// cmdHelp is `ferry help [COMMAND]`. With a command it runs that command's
// own -h, so the text cannot drift from `ferry COMMAND -h`; it goes to
// stdout because it was asked for (`ferry help run | less`), while a
// command's usage after a mistake stays on stderr.
func cmdHelp(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout)
		return exitOK
	}
	if isHelpFlag(args[0]) {
		fmt.Fprintln(e.stdout, "usage: ferry help [COMMAND]")
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(e.stdout, "Shows COMMAND's arguments and flags, as `ferry COMMAND -h` does; without COMMAND, lists the commands.")
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintf(e.stderr, "ferry help: takes one command, got %q; usage: ferry help [COMMAND]\n", args)
		return exitError
	}
	c, ok := lookup(args[0])
	if !ok {
		return unknownCommand(e, args[0])
	}
	return c.run(ctx, &env{stdout: e.stdout, stderr: e.stdout, getenv: e.getenv}, []string{"-h"})
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "-help" || s == "--help" || s == "--h"
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// unknownCommand explains args[0] when it names no command: a typo gets
// the nearest commands, a flag placed before the command gets the order.
func unknownCommand(e *env, name string) int {
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(e.stderr, "ferry: %q before the command: flags go after it, as in `ferry COMMAND [flags] [args]`\n\n", name)
		usage(e.stderr)
		return exitError
	}
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := suggest(name, names); len(s) > 0 {
		// The hint alone: a full command list would push it off the screen.
		fmt.Fprintf(e.stderr, "ferry: unknown command %q; did you mean %s?\nRun `ferry help` for the list of commands.\n", name, orList(s))
		return exitError
	}
	fmt.Fprintf(e.stderr, "ferry: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitError
}

// suggest returns the names word most likely meant: those at the smallest
// edit distance if it is within min(maxSuggestDistance, len(word)/2) (case
// ignored: "Run"), else the names word is a prefix of ("sub" for
// "submit"), in the order given. It returns nil when nothing is close.
func suggest(word string, names []string) []string {
	w := strings.ToLower(word)
	if w == "" {
		return nil
	}
	best := min(maxSuggestDistance, len(w)/2)
	var near []string
	for _, n := range names {
		switch d := textdist.Levenshtein(w, strings.ToLower(n)); {
		case d > best:
		case d < best || len(near) == 0:
			best, near = d, []string{n}
		default:
			near = append(near, n)
		}
	}
	if len(near) > 0 {
		return near
	}
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), w) {
			near = append(near, n)
		}
	}
	return near
}

// orList quotes names for a question: "a", "a" or "b", "a", "b" or "c".
func orList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// printVersion is shared by `ferry version`, `--version` and `-v`, which
// newcomers try first.
func printVersion(w io.Writer) {
	fmt.Fprintln(w, "ferry", version)
}
