package deploytest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goodWorker is a minimal valid workload, Service and PDB; each case below
// breaks one thing in it.
const goodWorker = `apiVersion: v1
kind: Namespace
metadata:
  name: ferry
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: w
  namespace: ferry
spec:
  selector:
    matchLabels: {app: w}
  template:
    metadata:
      labels: {app: w}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: c
          image: ferry:latest
          imagePullPolicy: IfNotPresent
          args: [worker, --token-file=/t/token]
          ports: [{name: http, containerPort: 9090}]
          readinessProbe:
            httpGet: {path: /readyz, port: http}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
          volumeMounts: [{name: token, mountPath: /t}]
      volumes:
        - name: token
          secret: {secretName: tok}
---
apiVersion: v1
kind: Service
metadata:
  name: w
  namespace: ferry
spec:
  selector: {app: w}
  ports: [{name: http, port: 9090, targetPort: http}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: w
  namespace: ferry
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: w}
`

// TestBrokenManifestsAreRejected writes manifests broken in one way each
// to a temporary directory and expects the decoder or the checks to name
// the file, the object and the fault.
func TestBrokenManifestsAreRejected(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string // replaced once in goodWorker; both empty: unchanged
		want     string // "" means no error
	}{
		{name: "valid", want: ""},
		{name: "unknown field", old: "imagePullPolicy:", new: "imagePullPolcy:", want: `unknown field "imagePullPolcy"`},
		{name: "unknown kind", old: "kind: Service\n", new: "kind: Servce\n", want: `unknown kind "Servce"`},
		{name: "wrong apiVersion", old: "apiVersion: policy/v1\n", new: "apiVersion: policy/v1beta1\n", want: `unknown kind "PodDisruptionBudget" (apiVersion "policy/v1beta1")`},
		{name: "selector does not match labels", old: "matchLabels: {app: w}\n  template", new: "matchLabels: {app: x}\n  template",
			want: `m.yaml: Deployment ferry/w: spec.selector "app=x" does not match the pod template labels map[app:w]`},
		{name: "service selects nothing", old: "  selector: {app: w}\n  ports", new: "  selector: {app: v}\n  ports",
			want: `m.yaml: Service ferry/w: spec.selector "app=v" matches no workload's pod labels`},
		{name: "service target port missing", old: "targetPort: http", new: "targetPort: metrics",
			want: `m.yaml: Service ferry/w: port "http": targetPort metrics is not a container port of m.yaml: Deployment ferry/w`},
		{name: "probe port missing", old: "port: http}", new: "port: 8080}",
			want: "readinessProbe: port 8080 is not among the container's ports"},
		{name: "secret missing", old: "secretName: tok", new: "secretName: nope",
			want: `volume token: Secret "nope" is neither in the manifests nor in the list`},
		{name: "mount names no volume", old: "{name: token, mountPath", new: "{name: tokn, mountPath",
			want: `volumeMount "tokn" names no volume`},
		{name: "pdb selects nothing", old: "maxUnavailable: 1\n  selector:\n    matchLabels: {app: w}", new: "maxUnavailable: 1\n  selector:\n    matchLabels: {app: z}",
			want: `m.yaml: PodDisruptionBudget ferry/w: spec.selector "app=z" matches no workload's pod labels`},
		{name: "namespace not declared", old: "name: w\n  namespace: ferry\nspec:\n  selector:\n    matchLabels",
			new: "name: w\n  namespace: other\nspec:\n  selector:\n    matchLabels", want: `namespace "other" is not declared`},
		{name: "root filesystem writable", old: "readOnlyRootFilesystem: true", new: "readOnlyRootFilesystem: false",
			want: "container c: readOnlyRootFilesystem is not true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := goodWorker
			if tc.old != "" {
				require.Contains(t, text, tc.old, "the case's text to replace is not in the manifest")
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			path := filepath.Join(t.TempDir(), "m.yaml")
			require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
			objs, err := DecodeFile(path)
			var errs []error
			if err != nil {
				errs = []error{err}
			} else {
				errs = NewSet(objs, []string{"tok"}).Check()
			}
			if tc.want == "" {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs, "the broken manifest was accepted")
			assert.Contains(t, errors.Join(errs...).Error(), tc.want)
		})
	}
}

// TestKustomizationListsEveryFile: a manifest missing from the
// kustomization, and a resource with no file, are both reported.
func TestKustomizationListsEveryFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\n  - gone.yaml\n# - opt.yaml\n")
	write("a.yaml", "")
	write("opt.yaml", "")
	write("stray.yaml", "")
	k, err := LoadKustomization(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"opt.yaml"}, k.Optional)
	msg := errors.Join(k.CheckFiles(dir)...).Error()
	assert.Contains(t, msg, "resource gone.yaml")
	assert.Contains(t, msg, "stray.yaml: not listed in kustomization.yaml")
	assert.NotContains(t, msg, "opt.yaml")

	write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource:\n  - a.yaml\n")
	_, err = LoadKustomization(dir)
	require.ErrorContains(t, err, `unknown field "resource"`)
}

// TestCheckFlagsRejectsUnknown uses a fixed help text, so it needs no
// binary: an unknown flag fails, a pending one passes, a positional
// argument is not taken for a flag.
func TestCheckFlagsRejectsUnknown(t *testing.T) {
	help := func(cmd string) (map[string]bool, error) {
		if cmd != "worker" {
			return nil, errors.New("unknown command " + cmd)
		}
		return map[string]bool{"master": true, "token-file": true}, nil
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"known flags", []string{"worker", "--master", "m:7443", "--token-file=/t"}, ""},
		{"pending flag", []string{"worker", "--http-listen=:9090"}, ""},
		{"unknown flag", []string{"worker", "--mastr=m:7443"}, "`ferry worker` has no flag --mastr"},
		{"unknown command", []string{"wroker"}, "unknown command wroker"},
		{"no command", []string{"--master=m"}, "do not start with a ferry command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckFlags(Invocation{Where: "x.yaml", Args: tc.args}, help, map[string]bool{"http-listen": true})
			if tc.want == "" {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			assert.Contains(t, errors.Join(errs...).Error(), tc.want)
		})
	}
}
