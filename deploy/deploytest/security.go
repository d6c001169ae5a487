package deploytest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkContainers: probes point at ports the container declares, and every
// container runs locked down (non-root, read-only root filesystem, no
// capabilities, no privilege escalation, RuntimeDefault seccomp) with
// resource requests and limits, which the HPA and the scheduler need.
func checkContainers(w Workload) []error {
	var errs []error
	spec := &w.Template.Spec
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		errs = append(errs, problem(w.Object, "pod securityContext.seccompProfile.type is not RuntimeDefault"))
	}
	for _, c := range allContainers(spec) {
		where := "container " + c.Name
		for _, p := range []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
			if port, ok := probePort(p.probe); ok && !hasPort(c, port) {
				errs = append(errs, problem(w.Object, "%s %s: port %s is not among the container's ports", where, p.name, port.String()))
			}
		}
		sc := c.SecurityContext
		if sc == nil {
			errs = append(errs, problem(w.Object, "%s: no securityContext", where))
			continue
		}
		if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
			errs = append(errs, problem(w.Object, "%s: runAsNonRoot is not set (pod or container)", where))
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			errs = append(errs, problem(w.Object, "%s: readOnlyRootFilesystem is not true", where))
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			errs = append(errs, problem(w.Object, "%s: allowPrivilegeEscalation is not false", where))
		}
		if sc.Capabilities == nil || !dropsAll(sc.Capabilities.Drop) || len(sc.Capabilities.Add) > 0 {
			errs = append(errs, problem(w.Object, "%s: capabilities must drop ALL and add none", where))
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				errs = append(errs, problem(w.Object, "%s: no %s request", where, r))
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				errs = append(errs, problem(w.Object, "%s: no %s limit", where, r))
			}
		}
	}
	return errs
}

// probePort is the port an HTTP, TCP or gRPC probe checks.
func probePort(p *corev1.Probe) (intstr.IntOrString, bool) {
	switch {
	case p == nil:
		return intstr.IntOrString{}, false
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port), true
	}
	return intstr.IntOrString{}, false
}

func dropsAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }
