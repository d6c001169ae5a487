package deploytest

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkWorkload checks one workload: its selector selects its own pods,
// a StatefulSet's governing Service exists, and its pod spec's references,
// probes and security settings hold.
func (s *Set) checkWorkload(w Workload) []error {
	var errs []error
	ns := w.Obj.GetNamespace()
	if w.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(w.Selector)
		switch {
		case err != nil:
			errs = append(errs, problem(w.Object, "spec.selector: %v", err))
		case sel.Empty():
			errs = append(errs, problem(w.Object, "spec.selector is empty: it would select every pod in the namespace"))
		case !sel.Matches(labels.Set(w.Template.Labels)):
			errs = append(errs, problem(w.Object, "spec.selector %q does not match the pod template labels %v", sel, w.Template.Labels))
		}
	}
	if ss, ok := w.Obj.(*appsv1.StatefulSet); ok && !s.has("Service", ns, ss.Spec.ServiceName) {
		errs = append(errs, problem(w.Object, "spec.serviceName %q: no such Service", ss.Spec.ServiceName))
	}
	errs = append(errs, s.checkPodRefs(w)...)
	errs = append(errs, checkContainers(w)...)
	return errs
}

// checkPodRefs: every Secret, ConfigMap (and key), PersistentVolumeClaim,
// ServiceAccount and volume the pod names exists.
func (s *Set) checkPodRefs(w Workload) []error {
	var errs []error
	ns := w.Obj.GetNamespace()
	spec := &w.Template.Spec
	secret := func(where, name string) {
		if !s.has("Secret", ns, name) && !s.External[name] {
			errs = append(errs, problem(w.Object, "%s: Secret %q is neither in the manifests nor in the list of Secrets the operator creates", where, name))
		}
	}
	configMap := func(where, name string, keys ...string) {
		cm := s.configMap(ns, name)
		if cm == nil {
			errs = append(errs, problem(w.Object, "%s: no ConfigMap %q", where, name))
			return
		}
		for _, k := range keys {
			if _, ok := cm.Data[k]; !ok {
				errs = append(errs, problem(w.Object, "%s: ConfigMap %q has no key %q", where, name, k))
			}
		}
	}
	if sa := spec.ServiceAccountName; sa != "" && !s.has("ServiceAccount", ns, sa) {
		errs = append(errs, problem(w.Object, "serviceAccountName %q: no such ServiceAccount", sa))
	}
	volumes := map[string]bool{}
	for _, c := range w.Claims {
		volumes[c] = true
	}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		where := "volume " + v.Name
		switch {
		case v.Secret != nil:
			secret(where, v.Secret.SecretName)
		case v.ConfigMap != nil:
			configMap(where, v.ConfigMap.Name, itemKeys(v.ConfigMap.Items)...)
		case v.PersistentVolumeClaim != nil:
			if !s.has("PersistentVolumeClaim", ns, v.PersistentVolumeClaim.ClaimName) {
				errs = append(errs, problem(w.Object, "%s: no PersistentVolumeClaim %q", where, v.PersistentVolumeClaim.ClaimName))
			}
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					secret(where, src.Secret.Name)
				}
				if src.ConfigMap != nil {
					configMap(where, src.ConfigMap.Name, itemKeys(src.ConfigMap.Items)...)
				}
			}
		}
	}
	for _, c := range allContainers(spec) {
		where := "container " + c.Name
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				errs = append(errs, problem(w.Object, "%s: volumeMount %q names no volume or volumeClaimTemplate", where, m.Name))
			}
		}
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				secret(where+" envFrom", ef.SecretRef.Name)
			}
			if ef.ConfigMapRef != nil {
				configMap(where+" envFrom", ef.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				secret(where+" env "+e.Name, r.Name)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				configMap(where+" env "+e.Name, r.Name, r.Key)
			}
		}
	}
	return errs
}

func itemKeys(items []corev1.KeyToPath) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

func allContainers(spec *corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
}

// hasPort reports whether a container serves port p (a name or a number).
func hasPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return true
		}
	}
	return false
}
