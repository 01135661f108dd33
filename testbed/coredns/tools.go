//go:build tools

// Package tools pins CoreDNS, which testbed/build.sh builds for the real node's cluster DNS.
package tools

import _ "github.com/coredns/coredns"
