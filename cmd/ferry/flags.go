package main

import (
	"cmp"
	"flag"
	"fmt"
	"strings"
	"sync"
)

// argSpecs holds each flag set's positional-argument synopsis ("JOB
// [JOB.cfg]"), given once to flags() and used by parse() to name a missing
// argument; keeping it beside the flag set spares every command repeating
// it in its parse call. parse drops the entry when done.
var argSpecs sync.Map // *flag.FlagSet -> string

// argHelp says what a positional argument is, for "missing JOB.cfg (the
// job file to run)". "command ARG" entries win over plain "ARG" ones.
var argHelp = map[string]string{
	"run JOB.cfg":    "the job file to run",
	"submit JOB.cfg": "the job file to send to the master",
	"JOB.cfg":        "a job file",
	"JOB":            "a job name, as `ferry jobs` lists it",
}

// flags makes a subcommand's flag set with the shared --data-dir flag.
// args is the positional-argument synopsis shown in its usage line.
func flags(e *env, name, args string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := e.getenv("FERRY_DATA_DIR")
	if def == "" {
		def = "ferry-data"
	}
	dir := fs.String("data-dir", def, "directory `DIR` where ferry keeps job state (env FERRY_DATA_DIR)")
	argSpecs.Store(fs, args)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nflags:\n", synopsis(name, args))
		fs.PrintDefaults()
	}
	return fs, dir
}

func synopsis(name, args string) string {
	return strings.TrimSpace("ferry " + name + " [flags] " + args)
}

// parse parses args and checks the number of positional arguments.
// Flags may come after positional arguments too (`ferry throttle JOB
// --bytes 100m`), which Go's flag package alone does not allow; a "--"
// ends flag parsing as usual. Like flag.Parse it reports errors to
// fs.Output() itself; callers only turn the error into an exit code.
func parse(fs *flag.FlagSet, args []string, min, max int) error {
	defer argSpecs.Delete(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil {
		return err
	}
	if n := fs.NArg(); n < min || n > max {
		err := argError(fs, min, max)
		fmt.Fprintln(fs.Output(), err)
		return err
	}
	return nil
}

// argError names what is missing or extra, with the usage line, in one
// line: a newcomer typing `ferry run` should learn that it wants a job
// file, not count arguments.
func argError(fs *flag.FlagSet, min, max int) error {
	name, n := fs.Name(), fs.NArg()
	spec, ok := argSpecs.Load(fs)
	if !ok { // a flag set not made by flags(): no names to give
		return fmt.Errorf("ferry %s: expected %s, got %d argument(s)", name, argCount(min, max), n)
	}
	usage := synopsis(name, spec.(string))
	if n > max {
		extra := fs.Args()[max:]
		q := make([]string, len(extra))
		for i, a := range extra {
			q[i] = fmt.Sprintf("%q", a)
		}
		word := "argument"
		if len(q) > 1 {
			word += "s"
		}
		return fmt.Errorf("ferry %s: unexpected %s %s; usage: %s", name, word, strings.Join(q, " "), usage)
	}
	var missing []string
	for _, a := range strings.Fields(spec.(string)) {
		if strings.HasPrefix(a, "[") {
			continue // optional
		}
		if h := cmp.Or(argHelp[name+" "+a], argHelp[a]); h != "" {
			a += " (" + h + ")"
		}
		missing = append(missing, a)
	}
	if n < len(missing) {
		missing = missing[n:]
	}
	return fmt.Errorf("ferry %s: missing %s; usage: %s", name, strings.Join(missing, " and "), usage)
}

func argCount(min, max int) string {
	switch {
	case min == max:
		return fmt.Sprintf("%d argument(s)", min)
	default:
		return fmt.Sprintf("%d to %d arguments", min, max)
	}
}
