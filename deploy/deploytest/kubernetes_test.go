package deploytest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ferry-migrate/ferry/conf"
)

func loadKube(t *testing.T) []Object {
	t.Helper()
	objs, err := LoadDir(kubeDir(t))
	require.NoError(t, err)
	return objs
}

func find[T any](t *testing.T, objs []Object, kind, name string) T {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Obj.GetName() == name {
			v, ok := o.Obj.(T)
			require.True(t, ok, "%s has an unexpected Go type %T", o.ID(), o.Obj)
			return v
		}
	}
	require.Failf(t, "missing object", "no %s %q in deploy/kubernetes", kind, name)
	var zero T
	return zero
}

// TestKubernetesManifests decodes every manifest strictly and runs the
// cross-reference checks; the table names what the deployment must have.
func TestKubernetesManifests(t *testing.T) {
	objs := loadKube(t)
	requireNoProblems(t, NewSet(objs, externalSecrets).Check())

	for _, want := range []struct{ kind, name string }{
		{"Namespace", "ferry"},
		{"ServiceAccount", "ferry-master"},
		{"ServiceAccount", "ferry-worker"},
		{"ConfigMap", "ferry-jobs"},
		{"Service", "ferry-master"},
		{"StatefulSet", "ferry-master"},
		{"Deployment", "ferry-worker"},
		{"PodDisruptionBudget", "ferry-worker"},
		{"HorizontalPodAutoscaler", "ferry-worker"},
		{"Job", "ferry-submit-photos"},
	} {
		t.Run(want.kind+"/"+want.name, func(t *testing.T) {
			n := 0
			for _, o := range objs {
				if o.Kind == want.kind && o.Obj.GetName() == want.name {
					n++
				}
			}
			assert.Equal(t, 1, n, "want exactly one %s %s", want.kind, want.name)
		})
	}
}

// TestKustomization: every file is applied or listed as optional, and the
// optional ones are the HPA and the submit Job.
func TestKustomization(t *testing.T) {
	k, err := LoadKustomization(kubeDir(t))
	require.NoError(t, err)
	requireNoProblems(t, k.CheckFiles(kubeDir(t)))
	assert.ElementsMatch(t, []string{"hpa.yaml", "submit-job.yaml"}, k.Optional)
	assert.Equal(t, "ferry", k.Namespace)
}

// TestMasterStatefulSet: one master, its --data-dir on the claim template's
// ReadWriteOnce volume, so state survives the pod.
func TestMasterStatefulSet(t *testing.T) {
	ss := find[*appsv1.StatefulSet](t, loadKube(t), "StatefulSet", "ferry-master")
	require.NotNil(t, ss.Spec.Replicas)
	assert.EqualValues(t, 1, *ss.Spec.Replicas, "ferry runs one master")
	require.Len(t, ss.Spec.VolumeClaimTemplates, 1)
	claim := ss.Spec.VolumeClaimTemplates[0]
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, claim.Spec.AccessModes)
	c := ss.Spec.Template.Spec.Containers[0]
	dataDir := flagValue(c.Args, "data-dir")
	require.NotEmpty(t, dataDir, "master args lack --data-dir")
	assert.Equal(t, claim.Name, mountFor(c, dataDir), "--data-dir %s is not on the volume claim", dataDir)
}

// TestFilesFlagsAreMounted: every path a ferry flag reads (certificates,
// token, data dir, job files) lies on a volume mounted in that container:
// the image's own filesystem is read-only and holds none of them.
func TestFilesFlagsAreMounted(t *testing.T) {
	fileFlags := []string{"data-dir", "tls-cert", "tls-key", "tls-ca", "client-ca", "token-file"}
	for _, w := range NewSet(loadKube(t), nil).Workloads() {
		for _, c := range w.Template.Spec.Containers {
			t.Run(w.ID()+"/"+c.Name, func(t *testing.T) {
				for _, f := range fileFlags {
					if v := flagValue(c.Args, f); v != "" {
						assert.NotEmpty(t, mountFor(c, v), "--%s %s is on no volumeMount", f, v)
					}
				}
				for _, a := range c.Args {
					if strings.HasSuffix(a, ".cfg") {
						assert.NotEmpty(t, mountFor(c, a), "job file %s is on no volumeMount", a)
					}
				}
			})
		}
	}
}

// TestFerryFlagsExist: every flag the manifests and the compose file pass
// to ferry is one `ferry COMMAND -h` lists.
func TestFerryFlagsExist(t *testing.T) {
	help := ferryHelp(t)
	c, err := LoadCompose(filepath.Join(composeDir(t), "compose.yaml"))
	require.NoError(t, err)
	invs := append(FerryInvocations(loadKube(t)), c.FerryInvocations()...)
	require.NotEmpty(t, invs)
	for _, inv := range invs {
		t.Run(inv.Where, func(t *testing.T) {
			requireNoProblems(t, CheckFlags(inv, help, nil))
		})
	}
}

// TestJobConfigsParse: the sample jobs (the ConfigMap's and the compose
// try-out's) are valid ferry job files.
func TestJobConfigsParse(t *testing.T) {
	cm := find[*corev1.ConfigMap](t, loadKube(t), "ConfigMap", "ferry-jobs")
	require.NotEmpty(t, cm.Data)
	for key, text := range cm.Data {
		t.Run("ferry-jobs/"+key, func(t *testing.T) {
			require.True(t, strings.HasSuffix(key, ".cfg"), "ConfigMap keys are job file names ending in .cfg")
			_, err := conf.Parse(strings.NewReader(text), "/etc/ferry/jobs/"+key)
			require.NoError(t, err)
		})
	}
	t.Run("compose/jobs/demo.cfg", func(t *testing.T) {
		_, err := conf.Load(filepath.Join(composeDir(t), "jobs", "demo.cfg"))
		require.NoError(t, err)
	})
}

// flagValue returns the value of --name in args ("--name=v" or "--name v").
func flagValue(args []string, name string) string {
	for i, a := range args {
		switch {
		case a == "--"+name && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--"+name+"="):
			return strings.TrimPrefix(a, "--"+name+"=")
		}
	}
	return ""
}

// mountFor returns the name of the volume that path lies on, or "".
func mountFor(c corev1.Container, path string) string {
	for _, m := range c.VolumeMounts {
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return m.Name
		}
	}
	return ""
}
