// Package validate checks the deployment artifacts: the Kubernetes
// manifests in configs/kubernetes and the Dockerfile at the repository
// root. It is a module of its own so that the main module does not depend
// on k8s.io/api; it has no code, only tests:
//
//	go -C configs/kubernetes/validate test ./...
//
// The manifests are decoded strictly into the official k8s.io/api types (an
// unknown or misspelt field, a duplicate key, a bad quantity fails), then
// checked for what this project needs of them: hardened pods, a CronJob
// that never overlaps, an Indexed Job whose shards match its completions, a
// Deployment with probes and a metrics port. The Dockerfile's go build
// command is run as written and the binary checked (static, stamped).
package validate
