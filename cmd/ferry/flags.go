package main

import (
	"flag"
	"fmt"
)

// flags makes a subcommand's flag set with the shared --data-dir flag.
func flags(e *env, name, args string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := e.getenv("FERRY_DATA_DIR")
	if def == "" {
		def = "ferry-data"
	}
	dir := fs.String("data-dir", def, "where ferry keeps job state (env FERRY_DATA_DIR)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ferry %s [flags] %s\n\nflags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs, dir
}

// parse parses args and checks the number of positional arguments.
// Flags may come after positional arguments too (`ferry throttle JOB
// --bytes 100m`), which Go's flag package alone does not allow; a "--"
// ends flag parsing as usual.
func parse(fs *flag.FlagSet, args []string, min, max int) error {
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
		fs.Usage()
		return fmt.Errorf("ferry %s: expected %s, got %d argument(s)", fs.Name(), argCount(min, max), n)
	}
	return nil
}

func argCount(min, max int) string {
	switch {
	case min == max:
		return fmt.Sprintf("%d argument(s)", min)
	default:
		return fmt.Sprintf("%d to %d arguments", min, max)
	}
}
