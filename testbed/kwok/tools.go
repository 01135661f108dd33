//go:build tools

// Package tools names the commands the testbed builds, so that `go mod tidy` keeps their modules.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
