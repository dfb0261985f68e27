package reliability

import "syscall"

// sysProcAttr makes the servers the tests start die with the test binary,
// even when it is killed (by go test -timeout, for example).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
