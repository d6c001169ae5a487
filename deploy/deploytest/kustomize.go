package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"
)

// Kustomization is the part of kustomize's Kustomization that ferry's
// uses. Decoding is strict, so a field outside it is an error: extend the
// struct when the kustomization grows.
type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
	// Optional are resources listed commented out ("# - hpa.yaml"): shipped
	// and checked, applied only when the operator uncomments them.
	Optional []string `json:"-"`
}

// optionalLine is a commented-out resource entry.
var optionalLine = regexp.MustCompile(`(?m)^\s*#\s*-\s*([\w.-]+\.ya?ml)\s*$`)

// LoadKustomization reads dir/kustomization.yaml.
func LoadKustomization(dir string) (*Kustomization, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, fmt.Errorf("kustomization: %w", err)
	}
	var k Kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("kustomization.yaml: apiVersion %q kind %q, want kustomize.config.k8s.io/v1beta1 Kustomization", k.APIVersion, k.Kind)
	}
	for _, m := range optionalLine.FindAllStringSubmatch(string(b), -1) {
		k.Optional = append(k.Optional, m[1])
	}
	return &k, nil
}

// CheckFiles: every resource (and optional resource) the kustomization
// names is a file in dir, and every manifest file in dir is named, so a
// new manifest cannot be left out of `kubectl apply -k` by accident.
func (k *Kustomization) CheckFiles(dir string) []error {
	var errs []error
	named := map[string]bool{}
	for _, r := range append(append([]string{}, k.Resources...), k.Optional...) {
		if named[r] {
			errs = append(errs, fmt.Errorf("kustomization.yaml: %s is listed twice", r))
		}
		named[r] = true
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			errs = append(errs, fmt.Errorf("kustomization.yaml: resource %s: %w", r, err))
		}
	}
	files, err := ManifestFiles(dir)
	if err != nil {
		return append(errs, err)
	}
	for _, f := range files {
		if !named[f] {
			errs = append(errs, fmt.Errorf("%s: not listed in kustomization.yaml (neither as a resource nor as a commented-out optional one)", f))
		}
	}
	return errs
}

// ManifestFiles lists the manifest files of dir (*.yaml and *.yml, not
// kustomization.yaml), sorted.
func ManifestFiles(dir string) ([]string, error) {
	var out []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("list manifests: %w", err)
		}
		for _, p := range m {
			if b := filepath.Base(p); b != "kustomization.yaml" {
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// LoadDir decodes every manifest file of dir.
func LoadDir(dir string) ([]Object, error) {
	files, err := ManifestFiles(dir)
	if err != nil {
		return nil, err
	}
	var objs []Object
	for _, f := range files {
		o, err := DecodeFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	return objs, nil
}
