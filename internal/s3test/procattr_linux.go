package s3test

import "syscall"

// sysProcAttr kills the gateway when the test process dies, so a crashed
// test leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
