//go:build tools

// Package tools names the command the testbed builds, so that `go mod tidy` keeps its modules.
package tools

import _ "go.etcd.io/etcd/server/v3"
