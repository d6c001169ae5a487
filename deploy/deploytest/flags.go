package deploytest

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// Invocation is one way a deployment file runs ferry: where (file and
// object or service) and the arguments after the binary.
type Invocation struct {
	Where string
	Args  []string
}

// FerryInvocations returns the containers of objs that run the ferry
// image, with their args (the image's ENTRYPOINT is /ferry).
func FerryInvocations(objs []Object) []Invocation {
	var out []Invocation
	for _, w := range NewSet(objs, nil).Workloads() {
		for _, c := range allContainers(&w.Template.Spec) {
			if IsFerryImage(c.Image) {
				out = append(out, Invocation{Where: w.ID() + " container " + c.Name, Args: append(append([]string{}, c.Command...), c.Args...)})
			}
		}
	}
	return out
}

// IsFerryImage reports whether image is ferry's: "ferry", "ferry:TAG" or
// "REGISTRY/.../ferry:TAG".
func IsFerryImage(image string) bool {
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexAny(name, ":@"); i >= 0 {
		name = name[:i]
	}
	return name == "ferry"
}

// helpFlag is a flag line of Go's flag.PrintDefaults: "  -name value".
var helpFlag = regexp.MustCompile(`(?m)^\s+-{1,2}([A-Za-z0-9][\w-]*)`)

// HelpFlags runs `bin CMD -h` and returns the flags its help lists.
func HelpFlags(bin, cmd string) (map[string]bool, error) {
	// -h exits non-zero on some commands; the text is what matters.
	out, _ := exec.Command(bin, cmd, "-h").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		return nil, fmt.Errorf("`ferry %s -h` lists no flags: %s", cmd, out)
	}
	return flags, nil
}

// CheckFlags checks an invocation's subcommand and flags against the
// binary's help (help returns a command's flags, caching as it likes).
// pending names flags another change is adding: allowed while the binary
// lacks them, so the manifests can be written against the agreed
// interface before it lands.
func CheckFlags(inv Invocation, help func(cmd string) (map[string]bool, error), pending map[string]bool) []error {
	if len(inv.Args) == 0 || strings.HasPrefix(inv.Args[0], "-") {
		return []error{fmt.Errorf("%s: args do not start with a ferry command: %q", inv.Where, inv.Args)}
	}
	cmd := inv.Args[0]
	known, err := help(cmd)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", inv.Where, err)}
	}
	var errs []error
	for _, a := range inv.Args[1:] {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		if !known[name] && !pending[name] {
			errs = append(errs, fmt.Errorf("%s: `ferry %s` has no flag --%s", inv.Where, cmd, name))
		}
	}
	return errs
}
