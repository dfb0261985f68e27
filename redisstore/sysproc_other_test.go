//go:build !linux

package redisstore_test

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
