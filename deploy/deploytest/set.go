package deploytest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Workload is an object that runs pods: what selectors, Services and
// references are checked against.
type Workload struct {
	Object
	Selector *metav1.LabelSelector // nil for a Job (the API generates it)
	Template *corev1.PodTemplateSpec
	// Claims are the StatefulSet's volumeClaimTemplates names: pods may
	// mount them as volumes without a PersistentVolumeClaim object.
	Claims []string
}

// Set is a directory's manifests, indexed for the cross-reference checks.
type Set struct {
	Objects []Object
	// External are Secrets the pods may reference without a manifest:
	// created by the operator (kubectl create secret) because their
	// contents must not be in git.
	External map[string]bool
}

// NewSet indexes objs; external names Secrets created outside the manifests.
func NewSet(objs []Object, external []string) *Set {
	s := &Set{Objects: objs, External: map[string]bool{}}
	for _, n := range external {
		s.External[n] = true
	}
	return s
}

// Workloads returns the Deployments, StatefulSets and Jobs.
func (s *Set) Workloads() []Workload {
	var ws []Workload
	for _, o := range s.Objects {
		switch v := o.Obj.(type) {
		case *appsv1.Deployment:
			ws = append(ws, Workload{Object: o, Selector: v.Spec.Selector, Template: &v.Spec.Template})
		case *appsv1.StatefulSet:
			w := Workload{Object: o, Selector: v.Spec.Selector, Template: &v.Spec.Template}
			for _, c := range v.Spec.VolumeClaimTemplates {
				w.Claims = append(w.Claims, c.Name)
			}
			ws = append(ws, w)
		case *batchv1.Job:
			ws = append(ws, Workload{Object: o, Template: &v.Spec.Template})
		}
	}
	return ws
}

// has reports whether an object of kind named name exists in namespace ns.
func (s *Set) has(kind, ns, name string) bool {
	for _, o := range s.Objects {
		if o.Kind == kind && o.Obj.GetName() == name && o.Obj.GetNamespace() == ns {
			return true
		}
	}
	return false
}

// configMap returns the ConfigMap ns/name, or nil.
func (s *Set) configMap(ns, name string) *corev1.ConfigMap {
	for _, o := range s.Objects {
		if cm, ok := o.Obj.(*corev1.ConfigMap); ok && cm.Name == name && cm.Namespace == ns {
			return cm
		}
	}
	return nil
}

// Check runs every cross-reference check and returns the problems found,
// each naming the file, the object and what is wrong.
func (s *Set) Check() []error {
	var errs []error
	errs = append(errs, s.checkNamespaces()...)
	for _, w := range s.Workloads() {
		errs = append(errs, s.checkWorkload(w)...)
	}
	for _, o := range s.Objects {
		switch v := o.Obj.(type) {
		case *corev1.Service:
			errs = append(errs, s.checkService(o, v)...)
		case *policyv1.PodDisruptionBudget:
			errs = append(errs, s.checkPDB(o, v)...)
		case *autoscalingv2.HorizontalPodAutoscaler:
			errs = append(errs, s.checkHPA(o, v)...)
		}
	}
	return errs
}

// checkNamespaces: every namespaced object names a namespace the
// manifests create, so `kubectl apply` does not fail half-way.
func (s *Set) checkNamespaces() []error {
	var errs []error
	for _, o := range s.Objects {
		if o.Kind == "Namespace" {
			continue
		}
		ns := o.Obj.GetNamespace()
		switch {
		case ns == "":
			errs = append(errs, fmt.Errorf("%s: metadata.namespace is empty (every object goes in the ferry namespace)", o.ID()))
		case !s.has("Namespace", "", ns):
			errs = append(errs, fmt.Errorf("%s: namespace %q is not declared by any Namespace manifest", o.ID(), ns))
		}
	}
	return errs
}

func problem(o Object, format string, args ...any) error {
	return fmt.Errorf("%s: %s", o.ID(), fmt.Sprintf(format, args...))
}
