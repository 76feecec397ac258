//go:build !linux && !nodevstack

package devstack

import "syscall"

func gatewayProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func isGatewayOf(int, string) bool { return false }
