//go:build !nodevstack

package devstack

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// gatewayProcAttr makes the kernel SIGKILL the gateway when the owning
// process dies, even by SIGKILL, so no orphan keeps serving the home's
// objects.
func gatewayProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// isGatewayOf reports whether pid is a live versitygw serving root.
func isGatewayOf(pid int, root string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	hasGW, hasRoot := false, false
	for _, a := range args {
		hasGW = hasGW || strings.HasSuffix(a, "versitygw")
		hasRoot = hasRoot || a == root
	}
	return hasGW && hasRoot
}
