// Command testquiet reads `go test -json` on stdin and prints what a person
// needs: every package's closing line (ok / FAIL / no test files), the full
// output of each failed test, skipped tests with their reason, and build
// errors. What a passing test logged is dropped. Each line is written as
// soon as it is known, so a long run shows its progress when piped.
//
// It always exits 0 when its input ends: the caller takes go test's status
// (make test sets pipefail).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output events
	Test       string
	Output     string
}

func main() {
	if err := filter(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testquiet:", err)
		os.Exit(2)
	}
}

func filter(in io.Reader, out io.Writer) error {
	held := map[string][]string{} // package + test -> output so far
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
			// go's own messages on stderr (merged by the caller) are not JSON.
			if _, err := fmt.Fprintln(out, line); err != nil {
				return err
			}
			continue
		}
		key := e.Package + "\x00" + e.Test
		var show []string
		switch {
		case e.Action == "build-output":
			show = []string{e.Output}
		case e.Test == "" && e.Action == "output":
			// The package's own lines: keep the verdicts, not the bare PASS.
			if o := strings.TrimSpace(e.Output); o != "PASS" && !strings.HasPrefix(o, "=== ") {
				show = []string{e.Output}
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "pass":
			delete(held, key)
		case e.Action == "fail", e.Action == "skip":
			show = held[key]
			delete(held, key)
		}
		for _, o := range show {
			if strings.HasPrefix(strings.TrimSpace(o), "=== ") {
				continue
			}
			if _, err := io.WriteString(out, o); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
