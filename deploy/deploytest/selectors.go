package deploytest

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// selected returns the workloads in ns whose pod template labels sel matches.
func (s *Set) selected(ns string, sel labels.Selector) []Workload {
	var ws []Workload
	for _, w := range s.Workloads() {
		if w.Obj.GetNamespace() == ns && sel.Matches(labels.Set(w.Template.Labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

// checkService: the selector picks some workload's pods, and every port's
// targetPort (a name, a number, or by default the port itself) is a port
// of a container in each selected workload.
func (s *Set) checkService(o Object, svc *corev1.Service) []error {
	if len(svc.Spec.Selector) == 0 {
		return []error{problem(o, "spec.selector is empty: the Service would have no endpoints")}
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	ws := s.selected(svc.Namespace, sel)
	if len(ws) == 0 {
		return []error{problem(o, "spec.selector %q matches no workload's pod labels", sel)}
	}
	var errs []error
	for _, p := range svc.Spec.Ports {
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(p.Port)
		}
		for _, w := range ws {
			found := false
			for _, c := range w.Template.Spec.Containers {
				found = found || hasPort(c, target)
			}
			if !found {
				errs = append(errs, problem(o, "port %q: targetPort %s is not a container port of %s", p.Name, target.String(), w.ID()))
			}
		}
	}
	return errs
}

// checkPDB: the budget's selector covers some workload's pods (a budget
// that selects nothing protects nothing, silently).
func (s *Set) checkPDB(o Object, pdb *policyv1.PodDisruptionBudget) []error {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	switch {
	case err != nil:
		return []error{problem(o, "spec.selector: %v", err)}
	case pdb.Spec.Selector == nil || sel.Empty():
		return []error{problem(o, "spec.selector is empty")}
	case len(s.selected(pdb.Namespace, sel)) == 0:
		return []error{problem(o, "spec.selector %q matches no workload's pod labels", sel)}
	}
	return nil
}

// checkHPA: scaleTargetRef names a workload in the manifests, and a
// resource metric has requests to compute utilization from.
func (s *Set) checkHPA(o Object, hpa *autoscalingv2.HorizontalPodAutoscaler) []error {
	ref := hpa.Spec.ScaleTargetRef
	var target *Workload
	for _, w := range s.Workloads() {
		if w.Kind == ref.Kind && w.APIVersion == ref.APIVersion && w.Obj.GetName() == ref.Name && w.Obj.GetNamespace() == hpa.Namespace {
			target = &w
			break
		}
	}
	if target == nil {
		return []error{problem(o, "scaleTargetRef %s %s (%s) is not in the manifests", ref.Kind, ref.Name, ref.APIVersion)}
	}
	var errs []error
	for _, m := range hpa.Spec.Metrics {
		if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil {
			continue
		}
		for _, c := range target.Template.Spec.Containers {
			if _, ok := c.Resources.Requests[m.Resource.Name]; !ok {
				errs = append(errs, problem(o, "metric %s: container %s of %s has no %s request to measure utilization against",
					m.Resource.Name, c.Name, target.ID(), m.Resource.Name))
			}
		}
	}
	return errs
}
