package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Object is one decoded manifest document.
type Object struct {
	File string // base name of the file it came from
	Doc  int    // 1-based document number within the file
	// APIVersion and Kind as written; Obj is the typed value.
	APIVersion, Kind string
	Obj              metav1.Object
}

// ID names the object in messages: "worker-pdb.yaml: PodDisruptionBudget ferry/ferry-worker".
func (o Object) ID() string {
	name := o.Obj.GetName()
	if ns := o.Obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s: %s %s", o.File, o.Kind, name)
}

// kinds are the kinds ferry's manifests may use, by apiVersion and kind.
// A kind missing here is an error rather than a skipped check: a new kind
// needs its decoding (and usually its cross-references) added here.
var kinds = map[string]func() metav1.Object{
	"v1/Namespace":                           func() metav1.Object { return &corev1.Namespace{} },
	"v1/ServiceAccount":                      func() metav1.Object { return &corev1.ServiceAccount{} },
	"v1/Service":                             func() metav1.Object { return &corev1.Service{} },
	"v1/ConfigMap":                           func() metav1.Object { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() metav1.Object { return &corev1.Secret{} },
	"v1/PersistentVolumeClaim":               func() metav1.Object { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/StatefulSet":                    func() metav1.Object { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                     func() metav1.Object { return &appsv1.Deployment{} },
	"batch/v1/Job":                           func() metav1.Object { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() metav1.Object { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() metav1.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// docSeparator is a YAML document separator line.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// DecodeFile decodes every document of a manifest file.
func DecodeFile(path string) ([]Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return DecodeBytes(filepath.Base(path), b)
}

// DecodeBytes decodes a multi-document manifest strictly: each document
// into the API type its apiVersion and kind name, rejecting unknown
// fields, duplicate keys and unknown kinds. Documents holding only
// comments are skipped.
func DecodeBytes(file string, b []byte) ([]Object, error) {
	var out []Object
	for i, doc := range docSeparator.Split(string(b), -1) {
		if blank(doc) {
			continue
		}
		o, err := decodeDoc(file, i+1, []byte(doc))
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no manifest in the file", file)
	}
	return out, nil
}

func decodeDoc(file string, n int, doc []byte) (Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return Object{}, fmt.Errorf("%s: document %d: %w", file, n, err)
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return Object{}, fmt.Errorf("%s: document %d: unknown kind %q (apiVersion %q); known: %s",
			file, n, tm.Kind, tm.APIVersion, strings.Join(knownKinds(), ", "))
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return Object{}, fmt.Errorf("%s: document %d (%s): %w", file, n, tm.Kind, err)
	}
	if obj.GetName() == "" {
		return Object{}, fmt.Errorf("%s: document %d (%s): metadata.name is empty", file, n, tm.Kind)
	}
	return Object{File: file, Doc: n, APIVersion: tm.APIVersion, Kind: tm.Kind, Obj: obj}, nil
}

func knownKinds() []string {
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// blank reports whether a document has nothing but comments and space.
func blank(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}
