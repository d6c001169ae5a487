package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Compose is the part of the Compose specification deploy/compose uses.
// Decoding is strict: a misspelled key (dependson, replica) is an error;
// a key the file starts using needs adding here, which is the point.
type Compose struct {
	Name     string                    `json:"name,omitempty"`
	Services map[string]ComposeService `json:"services"`
	Volumes  map[string]*struct{}      `json:"volumes,omitempty"`
	Secrets  map[string]ComposeFileRef `json:"secrets,omitempty"`
	Configs  map[string]ComposeFileRef `json:"configs,omitempty"`
}

// ComposeService is one service.
type ComposeService struct {
	Image       string            `json:"image,omitempty"`
	Build       *ComposeBuild     `json:"build,omitempty"`
	Entrypoint  []string          `json:"entrypoint,omitempty"`
	Command     []string          `json:"command,omitempty"`
	Environment map[string]string `json:"environment,omitempty"`
	Volumes     []string          `json:"volumes,omitempty"`
	Secrets     []string          `json:"secrets,omitempty"`
	Configs     []string          `json:"configs,omitempty"`
	Ports       []string          `json:"ports,omitempty"`
	Profiles    []string          `json:"profiles,omitempty"`
	ReadOnly    bool              `json:"read_only,omitempty"`
	Tmpfs       []string          `json:"tmpfs,omitempty"`
	CapDrop     []string          `json:"cap_drop,omitempty"`
	SecurityOpt []string          `json:"security_opt,omitempty"`
	Restart     string            `json:"restart,omitempty"`
	Deploy      *struct {
		Replicas *int `json:"replicas,omitempty"`
	} `json:"deploy,omitempty"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on,omitempty"`
}

// ComposeBuild is a service's build section.
type ComposeBuild struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
}

// ComposeFileRef is a top-level secret or config backed by a file.
type ComposeFileRef struct {
	File string `json:"file"`
}

// LoadCompose decodes a compose file strictly.
func LoadCompose(path string) (*Compose, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	var c Compose
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(c.Services) == 0 {
		return nil, fmt.Errorf("%s: no services", filepath.Base(path))
	}
	return &c, nil
}

var dependsConditions = map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}

// Check cross-references the file: depends_on names services (with a
// valid condition), named volumes, secrets and configs are declared, bind
// mounts and build contexts exist relative to dir (generated secret files
// excepted: they are made on the host and git-ignored), and every service
// has an image or a build.
func (c *Compose) Check(dir string) []error {
	var errs []error
	bad := func(svc, format string, args ...any) {
		errs = append(errs, fmt.Errorf("compose.yaml: service %s: %s", svc, fmt.Sprintf(format, args...)))
	}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Image == "" && s.Build == nil {
			bad(name, "neither image nor build")
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(dir, s.Build.Context)); err != nil {
				bad(name, "build context: %v", err)
			}
		}
		for dep, d := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				bad(name, "depends_on %s: no such service", dep)
			}
			if !dependsConditions[d.Condition] {
				bad(name, "depends_on %s: condition %q is not one of service_started, service_healthy, service_completed_successfully", dep, d.Condition)
			}
		}
		for _, v := range s.Volumes {
			src, _, ok := strings.Cut(v, ":")
			switch {
			case !ok:
				continue // an anonymous volume
			case strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/"):
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					bad(name, "bind mount %s: %v", v, err)
				}
			default:
				if _, ok := c.Volumes[src]; !ok {
					bad(name, "volume %s is not declared under top-level volumes", src)
				}
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				bad(name, "secret %s is not declared under top-level secrets", sec)
			}
		}
		for _, cf := range s.Configs {
			if _, ok := c.Configs[cf]; !ok {
				bad(name, "config %s is not declared under top-level configs", cf)
			}
		}
	}
	for _, name := range sortedKeys(c.Configs) {
		if _, err := os.Stat(filepath.Join(dir, c.Configs[name].File)); err != nil {
			errs = append(errs, fmt.Errorf("compose.yaml: config %s: %w", name, err))
		}
	}
	for _, name := range sortedKeys(c.Secrets) {
		if c.Secrets[name].File == "" {
			errs = append(errs, fmt.Errorf("compose.yaml: secret %s: no file", name))
		}
	}
	return errs
}

// FerryInvocations returns the services running the ferry image that
// have a command (the tools service takes its command on the command line).
func (c *Compose) FerryInvocations() []Invocation {
	var out []Invocation
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if IsFerryImage(s.Image) && len(s.Command) > 0 {
			out = append(out, Invocation{Where: "compose.yaml: service " + name, Args: append(append([]string{}, s.Entrypoint...), s.Command...)})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
