package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A rule forbids some module packages (the subjects) from importing others.
// Paths are relative to the module; "x/..." means x and every package under
// it. Only production code counts: Imports and Deps of `go list` leave out
// _test.go files.
type rule struct {
	text     string   // the rule as DESIGN §2 states it, quoted in failures
	subjects []string // packages the rule constrains
	except   []string // subjects it does not constrain
	forbid   []string // what they must not import
	// forbidExternal: import path prefixes outside the module they must
	// not import (a library kept at the edge).
	forbidExternal []string
	// direct: only the subject's own imports count. Otherwise everything it
	// depends on does, so routing an import through a third package does not
	// get around the rule.
	direct bool
}

var rules = []rule{
	{
		text:     "storage/** imports none of master, worker, tracker, proto",
		subjects: []string{"storage/..."},
		forbid:   []string{"master/...", "worker/...", "tracker/...", "proto/..."},
	},
	{
		text:     "tracker imports no master, worker, proto; it stores plain Go types",
		subjects: []string{"tracker/..."},
		forbid:   []string{"master/...", "worker/...", "proto/..."},
	},
	{
		text:     "worker never imports master (they meet only through proto), so a worker binary builds without master code",
		subjects: []string{"worker/..."},
		forbid:   []string{"master/..."},
	},
	{
		text:     "the worker core (package worker) imports no proto, conf, tracker; only its gRPC edge worker/client does",
		subjects: []string{"worker"},
		forbid:   []string{"proto/...", "conf/...", "tracker/..."},
	},
	{
		text:     "the master core (package master) works on plain Go types; only its gRPC edge master/server imports proto",
		subjects: []string{"master"},
		forbid:   []string{"proto/..."},
	},
	{
		// Direct imports only: cmd/ferry reaches proto through
		// master/server, worker/client and admin/remote, which is the
		// point of them.
		text:     "only gRPC edge packages (master/server, worker/client, admin/remote, internal/wire/**) import proto",
		subjects: []string{"..."},
		except:   []string{"master/server", "worker/client", "admin/remote", "internal/wire/...", "proto/..."},
		forbid:   []string{"proto/..."},
		direct:   true,
	},
	{
		text:     "package admin (the admin Client and Local) depends on no proto; only its gRPC edge admin/remote does",
		subjects: []string{"admin"},
		forbid:   []string{"proto/..."},
	},
	{
		text:     "no production package imports test tooling (internal/testkit/**); only tests, e2e and scripts may",
		subjects: []string{"..."},
		except:   []string{"internal/testkit/...", "scripts/...", "e2e/..."},
		forbid:   []string{"internal/testkit/..."},
	},
	{
		text:     "cutover (the guided cutover's state, checks and report) imports none of master, worker, standalone, admin, proto: a standalone run and a master both wire it",
		subjects: []string{"cutover/..."},
		forbid:   []string{"master/...", "worker/...", "standalone/...", "admin/...", "proto/...", "cmd/..."},
	},
	{
		text:     "snapshot (naming, manifest format, retention) imports none of master, worker, tracker, conf, standalone, admin, proto",
		subjects: []string{"snapshot/..."},
		forbid:   []string{"master/...", "worker/...", "tracker/...", "conf/...", "standalone/...", "admin/...", "proto/..."},
	},
	{
		text: "only internal/observe and cmd/ferry use the Prometheus client: the core packages export numbers through stat, " +
			"counters and worker.Observer, and know no metrics library",
		subjects:       []string{"..."},
		except:         []string{"internal/observe", "cmd/ferry"},
		forbidExternal: []string{"github.com/prometheus/"},
	},
	{
		text: "the dashboard (dashboard/**) depends on no proto and no cmd: it reads and controls an in-process " +
			"master.Manager, and cmd/ferry only wires it",
		subjects: []string{"dashboard/..."},
		forbid:   []string{"proto/...", "cmd/...", "master/server/...", "admin/remote/..."},
	},
	{
		text:     "task (the plain types crossing the master-worker line) imports nothing of master, worker, tracker, conf, storage, proto",
		subjects: []string{"task/..."},
		forbid:   []string{"master/...", "worker/...", "tracker/...", "conf/...", "storage/...", "proto/..."},
	},
}

// Known exceptions: violations that exist today and are being removed.
// Each is logged, not failed; when it no longer occurs the test says so,
// and the entry should go.
var exceptions = []struct {
	pkg, imp, rule, why string
}{}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

func TestImportRules(t *testing.T) {
	module, pkgs := listModule(t)
	rel := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	// The module's own import graph (relative paths), for naming the chain
	// that brings a forbidden package in.
	graph := map[string][]string{}
	var names []string
	for _, p := range pkgs {
		name, _ := rel(p.ImportPath)
		names = append(names, name)
		for _, imp := range p.Imports {
			if r, ok := rel(imp); ok {
				graph[name] = append(graph[name], r)
			}
		}
	}
	sort.Strings(names)

	type key struct{ pkg, imp, rule string }
	excepted := map[key]string{}
	for _, e := range exceptions {
		excepted[key{e.pkg, e.imp, e.rule}] = e.why
	}
	seenException := map[key]bool{}

	for _, r := range rules {
		constrained := 0
		for _, p := range pkgs {
			name, _ := rel(p.ImportPath)
			if !matchAny(name, r.subjects) || matchAny(name, r.except) {
				continue
			}
			constrained++
			imports := p.Deps
			if r.direct {
				imports = p.Imports
			}
			for _, imp := range imports {
				target, ok := rel(imp)
				switch {
				case !ok && hasPrefixAny(imp, r.forbidExternal):
					target = imp
				case !ok || !matchAny(target, r.forbid):
					continue
				}
				k := key{name, target, r.text}
				if why, ok := excepted[k]; ok {
					seenException[k] = true
					t.Logf("known exception (%s): %s imports %s, against rule %q", why, name, target, r.text)
					continue
				}
				via := ""
				if chain := path(graph, name, target); len(chain) > 2 {
					via = " (via " + strings.Join(chain, " -> ") + ")"
				}
				t.Errorf("%s imports %s%s\n\tbreaks rule: %s (DESIGN §2; docs/architecture.md)", name, target, via, r.text)
			}
		}
		// A rule whose subjects were renamed away would pass forever.
		if constrained == 0 {
			t.Errorf("rule %q constrains no package: subjects %v match none of %v", r.text, r.subjects, names)
		}
	}
	for _, e := range exceptions {
		if !seenException[key{e.pkg, e.imp, e.rule}] {
			t.Logf("exception no longer needed, remove it: %s imports %s (%s)", e.pkg, e.imp, e.why)
		}
	}
}

// matchAny reports whether the relative path p matches one of the
// patterns: "x" is x only, "x/..." is x and everything under it, "..." is
// everything.
func matchAny(p string, patterns []string) bool {
	for _, pat := range patterns {
		if pat == "..." {
			return true
		}
		if root, ok := strings.CutSuffix(pat, "/..."); ok {
			if p == root || strings.HasPrefix(p, root+"/") {
				return true
			}
		} else if p == pat {
			return true
		}
	}
	return false
}

func hasPrefixAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// path is a shortest import chain from -> ... -> to in graph, or nil.
func path(graph map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == to {
			var chain []string
			for ; n != ""; n = prev[n] {
				chain = append([]string{n}, chain...)
			}
			return chain
		}
		for _, m := range graph[n] {
			if _, ok := prev[m]; !ok {
				prev[m] = n
				queue = append(queue, m)
			}
		}
	}
	return nil
}

// listModule runs `go list -json ./...` at the module root and returns the
// module path and its packages.
func listModule(t *testing.T) (string, []pkg) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Fatalf("not inside a module (go env GOMOD = %q)", gomod)
	}
	root := filepath.Dir(gomod)
	modOut, err := goCmd(root, "list", "-m", "-f", "{{.Path}}")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(string(modOut))

	listOut, err := goCmd(root, "list", "-json=ImportPath,Imports,Deps,Error", "./...")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(listOut))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list ./... in %s listed no packages", root)
	}
	return module, pkgs
}

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %v: %s", strings.Join(args, " "), dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
