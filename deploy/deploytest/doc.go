// Package deploytest checks ferry's deployment files: the Kubernetes
// manifests in deploy/kubernetes, the compose file in deploy/compose and
// the Dockerfile. No cluster or container runtime is needed: manifests
// are decoded strictly into the Kubernetes API's own Go types (the only
// faithful schema; an unknown or misspelled field is an error, as it
// would be for `kubectl apply --validate=strict`), then checked for what
// the API server does not check: that selectors match pod labels and
// that every Secret, ConfigMap, ServiceAccount, volume, port and ferry
// flag a manifest names exists.
//
// The checks live in ordinary files so that the tests, including the
// negative ones that feed broken manifests, share one implementation.
package deploytest
